"""The Chinese names people read for the system's codes (statuses, kinds, levels, roles, timeline actions).

Statuses, kinds, levels and chiefs' posts are the shared vocabularies of ``linzhang.vocabularies`` (the
API's ``/vocabularies`` serves the same names); the rest are the pages' own words.

Categories are the configured vocabulary (config/categories.toml); the grades' and components' names
come from the rubric (config/assessment.toml).
"""

from __future__ import annotations

from collections.abc import Mapping

from linzhang.vocabularies import KINDS, LEVELS, POSTS, STATUSES

STATUS = {term.code: term.name for term in STATUSES.terms}
KIND = {term.code: term.name for term in KINDS.terms}
LEVEL = {term.code: term.name for term in LEVELS.terms}
ROLE = {"admin": "系统管理员", "office": "林长办", "chief": "林长", "integration": "系统对接", "ranger": "护林员"}
REASON = {
    "assigned": "交办",
    "escalated": "上升督办",
    "verification": "待核查",
    "acceptance": "待验收",
    "summons": "约谈",
    "summons_planned": "安排约谈",
}
CHIEF_ROLE = {term.code: term.name for term in POSTS.terms}
ACTION = {
    "created": "交办",
    "split": "分解下达",
    "progress": "报告进度",
    "corrected": "更正完成量",
    "rolled_up": "汇总进度",
    "done": "完成",
    "submitted": "提交核查",
    "verified": "核查通过",
    "accepted": "验收通过",
    "reopened": "重新办理",
    "sent_back": "退回整改",
    "escalated": "逾期上升",
    "commented": "批示",
    "supervised": "督办",
    "summons": "约谈",
    "summons_planned": "安排约谈",
    "reported": "问题上报",
}
# Names of the timeline details' keys.
DETAIL = {
    "note": "说明",
    "reason": "原因",
    "text": "内容",
    "completed_quantity": "完成量",
    "previous": "原完成量",
    "new_due_date": "新期限",
    "held_on": "约谈日期",
    "from_code": "原承办",
    "to_code": "升至",
    "days_overdue": "逾期天数",
    "kind": "类型",
    "due_date": "期限",
    "split_from": "分解自任务",
    "planned_on": "约谈日期",
    "place": "地点",
    "attendees": "参加人员",
    "minutes": "约谈记录",
    "summons_id": "约谈编号",
    "reported_by": "反映人",
    "longitude": "经度",
    "latitude": "纬度",
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The Chinese name of ``code`` in ``table``; an unknown code shows as itself, never as nothing."""
    if code is None:
        return ""
    return table.get(code, code)
