"""Reading a division file: ``code,name,level,parent_code`` rows with a header line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from linzhang.domains.jurisdictions.model import Division, InvalidDivision, parse_division

COLUMNS = ("code", "name", "level", "parent_code")


def read_divisions(text: str) -> Iterator[tuple[int, Division]]:
    """Parse the file's rows, each with its line number; the first bad row raises :class:`InvalidDivision`."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InvalidDivision("文件为空", 1, code="division_file_empty")
    if tuple(column.strip().lower() for column in header) != COLUMNS:
        raise InvalidDivision(
            f"表头须为 {','.join(COLUMNS)}，实为 {','.join(header)}", 1, code="division_header_invalid"
        )
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise InvalidDivision(f"应有{len(COLUMNS)}列，实有{len(row)}列", line, code="division_columns_invalid")
        yield line, parse_division(row[0], row[1], row[2], row[3], line)


def read_division_file(path: Path) -> list[tuple[int, Division]]:
    # utf-8-sig: files saved by spreadsheet programs start with a byte-order mark.
    return list(read_divisions(path.read_text(encoding="utf-8-sig")))
