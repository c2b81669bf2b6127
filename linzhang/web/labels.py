"""The Chinese names people read for the system's codes (statuses, kinds, levels, roles, timeline actions).

Categories are the configured vocabulary (config/categories.toml); the grades' and components' names
come from the rubric (config/assessment.toml).
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS = {"open": "进行中", "submitted": "待核查", "done": "已完成"}
KIND = {"target": "目标任务", "issue": "问题整改", "order": "林长令"}
LEVEL = {"city": "市级", "district": "区县级", "township": "乡镇（街道）级", "village": "村（社区）级"}
ROLE = {"admin": "系统管理员", "office": "林长办", "chief": "林长", "integration": "系统对接"}
REASON = {"assigned": "交办", "escalated": "上升督办"}
CHIEF_ROLE = {"general": "总林长", "deputy": "副总林长", "chief": "林长"}
ACTION = {
    "created": "交办",
    "split": "分解下达",
    "progress": "报告进度",
    "rolled_up": "汇总进度",
    "done": "完成",
    "submitted": "提交核查",
    "verified": "核查通过",
    "sent_back": "退回整改",
    "escalated": "逾期上升",
    "commented": "批示",
    "supervised": "督办",
    "summons": "约谈",
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
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The Chinese name of ``code`` in ``table``; an unknown code shows as itself, never as nothing."""
    if code is None:
        return ""
    return table.get(code, code)
