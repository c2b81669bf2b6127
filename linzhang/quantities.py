"""Quantities (亩, 株, 处...) as the API and the pages show them: exact inside, a JSON number outside.

Services keep quantities as ``Decimal`` (four decimal places at most). A view holds them as
:class:`Quantity`, which the app's type encoder writes as a JSON number: a whole number without a
fraction (``5``, not ``5.0000``), others as the nearest double, exact for four decimal places within
the range the checks allow (up to 10^12). The OpenAPI document says ``number``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec


class Quantity(Decimal):
    """A quantity in a view; a ``Decimal`` in every other respect."""

    __slots__ = ()


def quantity(value: Decimal) -> Quantity:
    return Quantity(value)


def optional_quantity(value: Decimal | None) -> Quantity | None:
    return None if value is None else Quantity(value)


def as_json_number(value: Decimal) -> int | float:
    """A quantity as a JSON number: four decimal places at most, well within a double's exact range."""
    return int(value) if value == value.to_integral_value() else float(value)


_DESCRIBED = "数量（JSON 数字，最多4位小数）"
# A quantity field of a view, documented as the number it is written as.
QuantityOut = Annotated[
    Quantity, msgspec.Meta(extra_json_schema={"description": _DESCRIBED, "extra": {"type": "number"}})
]
OptionalQuantityOut = Annotated[
    Quantity | None,
    msgspec.Meta(
        extra_json_schema={
            "description": _DESCRIBED,
            "extra": {"type": None, "one_of": [{"type": "number"}, {"type": "null"}]},
        }
    ),
]
