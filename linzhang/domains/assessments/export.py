"""The ranking as a workbook laid out the way an office prints it: one sheet per level, Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from linzhang.domains.assessments.model import COMPONENTS, Rubric
from linzhang.domains.assessments.service import ScoreView

SHEETS = {"district": "区县", "township": "乡镇街道", "village": "村社区", "city": "市级"}
THIN = Side(style="thin", color="999999")


def workbook(period: str, rubric: Rubric, by_level: Mapping[str, Sequence[ScoreView]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for level, title in SHEETS.items():
        rows = by_level.get(level, [])
        if not rows:
            continue
        sheet = book.create_sheet(title)
        headers = [
            "排名",
            "区划代码",
            "名称",
            "总分",
            "等级",
            *(f"{rubric.labels[c]}（权重{rubric.weights[c]:g}）" for c in COMPONENTS),
            "一票否决",
            "扣分项数",
            "主要扣分",
        ]
        sheet.append([f"{period}年度林长制考核结果（{title}）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet["A1"].font = Font(size=14, bold=True)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet.append(headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        for row in rows:
            main = "；".join(f"{d.reason}{d.points:+g}" for d in row.deductions[:5] if d.points < 0)
            sheet.append(
                [
                    row.rank if row.rank is not None else "—",
                    row.jurisdiction_code,
                    row.name,
                    row.score if row.score is not None else "不参评",
                    row.grade or "—",
                    *(row.components.get(c) if row.components.get(c) is not None else "不适用" for c in COMPONENTS),
                    row.veto_reason or "",
                    row.deductions_count,
                    main,
                ]
            )
        widths = [6, 14, 18, 8, 8, 14, 14, 14, 14, 18, 8, 60]
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A3"
        sheet.print_title_rows = "2:2"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if not book.sheetnames:
        book.create_sheet("区县").append([f"{period}年度林长制考核结果：无"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
