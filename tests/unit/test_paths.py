"""Paths: a subtree is a range of strings, exactly the paths that start with the scope's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linzhang.paths import child_path, is_below, is_within, path_codes, path_of_codes, subtree_bounds

codes = st.text(alphabet="0123456789ABCXYZabz_-", min_size=1, max_size=8)
code_lists = st.lists(codes, min_size=1, max_size=4)


def test_path_shape() -> None:
    assert child_path(None, "50") == "/50/"
    assert child_path("/50/", "500101") == "/50/500101/"
    assert path_codes("/50/500101/") == ["50", "500101"]
    assert path_of_codes(["50", "500101"]) == "/50/500101/"


@given(code_lists, code_lists)
def test_range_equals_prefix(scope_codes: list[str], other_codes: list[str]) -> None:
    scope, other = path_of_codes(scope_codes), path_of_codes(other_codes)
    low, high = subtree_bounds(scope)
    assert (low <= other < high) == other.startswith(scope) == is_within(other, scope)


@given(code_lists, codes)
def test_a_child_is_below_and_within_but_not_the_other_way(scope_codes: list[str], code: str) -> None:
    scope = path_of_codes(scope_codes)
    child = child_path(scope, code)
    assert is_below(child, scope)
    assert is_within(child, scope)
    assert not is_within(scope, child)
    assert not is_below(scope, scope)


def test_similar_codes_are_not_confused() -> None:
    # 500101 and 5001010 share a prefix as text but not as paths.
    assert not is_within("/50/5001010/", "/50/500101/")
