"""Reading the files an operator imports: rangers (CSV) and patrol areas (GeoJSON)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from linzhang.domains.patrols.model import InvalidPatrolInput
from linzhang.domains.patrols.service import RangerRow

COLUMNS = ("name", "phone", "jurisdiction_code", "post")
# The largest area file read (every village of a district with detailed boundaries fits).
MAX_AREAS_BYTES = 200 * 1024 * 1024


def _text(data: bytes) -> str:
    try:
        # utf-8-sig: files saved by spreadsheet programs start with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidPatrolInput(
            f"第{line}行：文件不是 UTF-8 编码（请以 UTF-8 另存为 CSV）", code="ranger_file_not_utf8", line=line
        ) from None


def read_rangers(data: bytes) -> list[RangerRow]:
    """The rows of a ``name,phone,jurisdiction_code,post`` file; the first bad row raises with its line."""
    reader = csv.reader(io.StringIO(_text(data)))
    rows: list[RangerRow] = []
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidPatrolInput("第1行：文件为空", code="ranger_file_empty", line=1)
        if tuple(column.strip().lower() for column in header) != COLUMNS:
            raise InvalidPatrolInput(
                f"第1行：表头须为 {','.join(COLUMNS)}，实为 {','.join(header)[:200]}",
                code="ranger_header_invalid",
                line=1,
            )
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise InvalidPatrolInput(
                    f"第{line}行：应有{len(COLUMNS)}列，实有{len(row)}列", code="ranger_columns_invalid", line=line
                )
            rows.append(RangerRow(line, row[0], row[1], row[2], row[3]))
    except csv.Error as exc:
        raise InvalidPatrolInput(
            f"第{reader.line_num}行：CSV 格式错误（{exc}）", code="ranger_csv_malformed", line=reader.line_num
        ) from None
    if not rows:
        raise InvalidPatrolInput("文件只有表头，没有任何人员", code="ranger_file_empty", line=1)
    return rows


def read_ranger_file(path: Path) -> list[RangerRow]:
    return read_rangers(path.read_bytes())


def read_areas_file(path: Path) -> Any:
    """The GeoJSON document of an area file (checked feature by feature by the import)."""
    if path.stat().st_size > MAX_AREAS_BYTES:
        raise InvalidPatrolInput("巡护区域文件过大", code="areas_file_too_large")
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise InvalidPatrolInput("巡护区域文件不是有效的 GeoJSON", code="areas_file_invalid") from None
