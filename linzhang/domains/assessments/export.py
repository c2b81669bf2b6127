"""The ranking as a workbook laid out the way an office prints it.

Sheets in the order city, district, township, village; townships (and villages) grouped and ranked the
way the rubric's ``[ranking]`` says, the city-wide rank beside; exact figures in fixed number formats
(never scientific notation); every deduction names its task (title and id) and the unit responsible;
each component's score beside its weighted points; the period, as-of date, issuing unit and page numbers
on every printed page. Text that a spreadsheet would take for a formula is written as text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from linzhang.domains.assessments.model import Rubric, exact, parse_period
from linzhang.domains.assessments.service import DeductionView, RunView, ScoreView
from linzhang.vocabularies import LEVEL_AREAS, LEVEL_SHEETS
from linzhang.vocabularies import LEVEL_CODES as LEVELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_NAMES = {"draft": "草稿", "published": "已公布", "superseded": "已被新版本替代"}
THIN = Side(style="thin", color="999999")
BORDER = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
SCORE_FORMAT = "0.00"  # two decimals, as scores are kept; never the General format's 1.08943E+06
RANK_FORMAT = "0"
# A spreadsheet reads a cell starting with one of these as a formula (CSV/formula injection).
FORMULA_LEADS = ("=", "+", "-", "@")
# A cell holds at most 32,767 characters; the deductions list stops well before.
CELL_TEXT_MAX = 30_000
DEDUCTIONS_WIDTH = 70


def period_label(key: str) -> str:
    period = parse_period(key)
    if "Q" in key:
        return f"{period.start.year}年第{key[-1]}季度"
    return f"{period.start.year}年度"


def _points(value: float) -> str:
    return f"{'+' if value > 0 else ''}{exact(value)}分"


def deduction_line(d: DeductionView) -> str:
    """One deduction as printed: its task (title and id), the unit responsible, the reason, the points."""
    reason = d.reason
    if d.task_unit and d.component == "target_completion":
        reason = f"{reason}{d.task_unit}"
    if d.task_id is None:
        return f"{reason} {_points(d.points)}"
    task = f"「{d.task_title}」（任务{d.task_id}）" if d.task_title else f"任务{d.task_id}"
    unit = f"，责任单位：{d.jurisdiction_name or d.jurisdiction_code}" if d.jurisdiction_code else ""
    return f"{task}{unit}：{reason} {_points(d.points)}"


def _as_text(cell: Cell) -> None:
    """Keep a text value a text, whatever it starts with."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_LEADS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _escape(text: str) -> str:
    return text.replace("&", "&&")  # a single & starts a header/footer code


def _headers(rubric: Rubric, level: str) -> list[str]:
    group = rubric.group_level(level)
    rank_header = "排名" if group == "city" else f"{LEVEL_AREAS[group]}内排名"
    columns = [rank_header, "全市排名", "区划代码", "名称"]
    if level not in ("city", "district"):
        columns.append("所属区县")
    columns += ["总分", "等级"]
    for component in rubric.components:
        label = rubric.labels[component]
        columns += [f"{label}得分", f"{label}折算分（权重{exact(rubric.weights[component])}）"]
    columns += ["加分", "一票否决", "扣分项数", "扣分明细（任务、责任单位、原因、对总分的影响）"]
    return columns


def _row(row: ScoreView, level: str, rubric: Rubric) -> list[Any]:
    values: list[Any] = [
        row.rank if row.rank is not None else "—",
        row.city_rank if row.city_rank is not None else "—",
        row.jurisdiction_code,
        row.name,
    ]
    if level not in ("city", "district"):
        values.append(row.district_name or row.district_code or "")
    values += [row.score if row.score is not None else "不参评", row.grade or "—"]
    for component in rubric.components:
        value = row.components.get(component)
        weighted = row.weighted.get(component)
        values += [value if value is not None else "不适用", weighted if weighted is not None else "不适用"]
    bonus = sum(d.points for d in row.deductions if d.component == "bonus")
    lines = [deduction_line(d) for d in row.deductions if d.points < 0]
    if row.deductions_count > len(row.deductions):
        lines.append(f"……共 {row.deductions_count} 项，此处列出影响最大的 {len(row.deductions)} 项")
    text = "\n".join(lines)
    if len(text) > CELL_TEXT_MAX:
        text = text[:CELL_TEXT_MAX].rsplit("\n", 1)[0] + "\n……"
    values += [bonus if bonus else 0, row.veto_reason or "", row.deductions_count, text]
    return values


def _sheet(book: Workbook, run: RunView, rubric: Rubric, level: str, rows: Sequence[ScoreView]) -> Worksheet:
    title = LEVEL_SHEETS[level]
    sheet: Worksheet = book.create_sheet(title)
    headers = _headers(rubric, level)
    label = period_label(run.period)
    status = STATUS_NAMES.get(run.status, run.status)
    sheet.append([f"{label}林长制考核结果（{LEVEL_AREAS[level]}）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(
        [f"考核期：{label}　截止日期：{run.as_of.isoformat()}　第{run.version}版（{status}）　{rubric.issuing_unit}"]
    )
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headers))
    sheet.append(headers)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
    numeric = {
        index
        for index, header in enumerate(headers, start=1)
        if header in ("总分", "加分") or header.endswith("得分") or "折算分" in header
    }
    ranks = {1, 2, headers.index("扣分项数") + 1}
    wrap = len(headers)
    for row in rows:
        sheet.append(_row(row, level, rubric))
        for index, cell in enumerate(sheet[sheet.max_row], start=1):
            cell.border = BORDER
            _as_text(cell)
            if index in numeric and isinstance(cell.value, int | float):
                cell.number_format = SCORE_FORMAT
            elif index in ranks and isinstance(cell.value, int):
                cell.number_format = RANK_FORMAT
            if index == wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(vertical="top")
    widths = {1: 8, 2: 8, 3: 14, 4: 18}
    for index, header in enumerate(headers, start=1):
        width = widths.get(index, 12 if index != wrap else DEDUCTIONS_WIDTH)
        if header == "所属区县" or header == "一票否决":
            width = 16
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    # On every printed page: the issuing unit, the period and as-of date, the version, page numbers.
    sheet.oddHeader.left.text = _escape(rubric.issuing_unit)
    sheet.oddHeader.center.text = _escape(f"{label}林长制考核结果（{LEVEL_AREAS[level]}）")
    sheet.oddHeader.right.text = _escape(f"截止日期：{run.as_of.isoformat()}")
    sheet.oddFooter.left.text = _escape(f"第{run.version}版（{status}）")
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    return sheet


def workbook(run: RunView, rubric: Rubric, by_level: Mapping[str, Sequence[ScoreView]]) -> bytes:
    """The workbook of one version: a sheet per level with results, city first."""
    book = Workbook()
    book.remove(book.active)
    for level in LEVELS:
        rows = by_level.get(level, [])
        if rows:
            _sheet(book, run, rubric, level, rows)
    if not book.sheetnames:
        _sheet(book, run, rubric, "district", [])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download_headers(run: RunView) -> dict[str, str]:
    """How a download names a run's workbook: ``assessment-<period>-v<version>.xlsx``."""
    return {"content-disposition": f'attachment; filename="assessment-{run.period}-v{run.version}.xlsx"'}
