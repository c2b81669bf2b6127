"""Pure rules of the public signboards: receipt numbers, what a report must say, what its reporter sees."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

# Receipt numbers: "GS-" and 16 characters of Crockford's base 32 (80 random bits), in groups of four.
# Unguessable: nobody reaches a report but its reporter; the database keeps only their SHA-256.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_GROUPS = 4
_RECEIPT = re.compile(r"^GS([0-9A-HJKMNP-TV-Z]{16})$")
TEXT_MIN, TEXT_MAX = 5, 1000
PHONE_MAX = 40
DUTIES_MAX = 2000
AREA_MAX = 200


def new_receipt() -> str:
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(4 * RECEIPT_GROUPS))
    groups = [chars[i : i + 4] for i in range(0, len(chars), 4)]
    return "GS-" + "-".join(groups)


def normalize_receipt(given: str) -> str | None:
    """The canonical form of a receipt number as a person may type it (case, dashes, spaces, O for 0,
    I and L for 1), or None when it cannot be one."""
    compact = re.sub(r"[\s\-_]", "", given.upper())[:40]
    if compact.startswith("GS"):
        body = compact[2:].translate(str.maketrans("OIL", "011"))
        compact = "GS" + body
    match = _RECEIPT.match(compact)
    if match is None:
        return None
    body = match.group(1)
    return "GS-" + "-".join(body[i : i + 4] for i in range(0, 16, 4))


def receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.encode("ascii")).hexdigest()


class ReportRuleError(ValueError):
    def __init__(self, message: str, field: str, *, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class CheckedReport:
    category: str
    text: str
    longitude: float | None
    latitude: float | None


def _coordinate(value: str | None, field: str, low: float, high: float, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value.strip())
    except ValueError:
        raise ReportRuleError(f"{name}须为数字", field, code="invalid_coordinate") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ReportRuleError(f"{name}须在 {low:g} 至 {high:g} 之间", field, code="invalid_coordinate")
    return round(number, 7)


def check_report(
    *, category: str, text: str, longitude: str | None, latitude: str | None, categories: Collection[str]
) -> CheckedReport:
    """A public report's fields, checked: a category of the vocabulary, a text of 5 to 1,000 characters
    (no control characters), and a location given whole (both coordinates) or not at all."""
    if category not in categories:
        raise ReportRuleError("请选择问题类别", "category", code="unknown_category")
    cleaned = text.replace("\r\n", "\n").strip()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned) or "\x7f" in cleaned:
        raise ReportRuleError("问题描述含有不可见的控制字符", "text", code="text_invalid")
    if len(cleaned) < TEXT_MIN:
        raise ReportRuleError(f"请描述发现的问题（至少 {TEXT_MIN} 个字）", "text", code="text_too_short")
    if len(cleaned) > TEXT_MAX:
        raise ReportRuleError(f"问题描述不能超过 {TEXT_MAX} 个字", "text", code="text_too_long")
    lon = _coordinate(longitude, "longitude", -180, 180, "经度")
    lat = _coordinate(latitude, "latitude", -90, 90, "纬度")
    if (lon is None) != (lat is None):
        raise ReportRuleError(
            "位置须同时填写经度和纬度", "longitude" if lon is None else "latitude", code="partial_location"
        )
    return CheckedReport(category, cleaned, lon, lat)


def check_board_text(value: str | None, field: str, limit: int, name: str) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if len(cleaned) > limit:
        raise ReportRuleError(f"{name}不能超过 {limit} 个字", field, code=f"{field}_too_long")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned):
        raise ReportRuleError(f"{name}含有不可见的控制字符", field, code=f"{field}_invalid")
    return cleaned or None


class PublicStatus(StrEnum):
    RECEIVED = "received"  # stored, not yet an issue (the bus is carrying it)
    IN_PROGRESS = "in_progress"  # an open issue of the jurisdiction
    ESCALATED = "escalated"  # open and overdue: a higher level supervises it (督办)
    SUBMITTED = "submitted"  # the jurisdiction says it is dealt with; the level above verifies (核查)
    DONE = "done"  # verified: 办结
    REFUSED = "refused"  # could not become an issue


PUBLIC_STATUS_NAMES: dict[PublicStatus, str] = {
    PublicStatus.RECEIVED: "已受理，正在转交辖区",
    PublicStatus.IN_PROGRESS: "辖区正在处理",
    PublicStatus.ESCALATED: "已提级督办",
    PublicStatus.SUBMITTED: "已整改，待上级核查",
    PublicStatus.DONE: "已办结",
    PublicStatus.REFUSED: "未能受理",
}


def public_status(
    state: str, issue_status: str | None, owner_code: str | None, holder_code: str | None
) -> PublicStatus:
    """What the reporter reads: from the report's own state and, once it is an issue, the issue's."""
    if state == "refused":
        return PublicStatus.REFUSED
    if state != "issue" or issue_status is None:
        return PublicStatus.RECEIVED
    if issue_status == "done":
        return PublicStatus.DONE
    if issue_status == "submitted":
        return PublicStatus.SUBMITTED
    if owner_code is not None and holder_code is not None and holder_code != owner_code:
        return PublicStatus.ESCALATED
    return PublicStatus.IN_PROGRESS


# 林长职责: what each level's chiefs answer for, shown when a board names no duties of its own
# (after the opinions on fully implementing the forest-chief system and the municipal scheme).
DEFAULT_DUTIES: dict[str, str] = {
    "city": "负责全市森林资源保护发展工作，组织领导林长制实施，协调解决重大问题，对区县林长履职情况进行督导考核。",
    "district": "负责本区县森林资源保护发展工作，落实森林防火、林业有害生物防治、森林资源管护和生态修复责任，督导乡镇（街道）林长履职。",
    "township": "负责本乡镇（街道）森林资源保护发展工作，组织开展巡林护林、森林防火和有害生物防治，及时处置发现的问题，督导村（社区）林长履职。",
    "village": "负责本村（社区）林地日常巡护，及时发现、制止和报告乱砍滥伐、违法占用林地、森林火情和有害生物等问题，配合开展整改。",
}


def duties_for(level: str, own: str | None) -> str:
    return own or DEFAULT_DUTIES.get(level, DEFAULT_DUTIES["village"])


def retry_after(window_seconds: int, oldest_age_seconds: float) -> int:
    """Seconds until the oldest report in the window leaves it (at least one)."""
    return max(1, math.ceil(window_seconds - oldest_age_seconds))
