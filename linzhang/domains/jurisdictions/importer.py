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
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidDivision("文件为空", 1, code="division_file_empty")
        if tuple(column.strip().lower() for column in header) != COLUMNS:
            raise InvalidDivision(
                f"表头须为 {','.join(COLUMNS)}，实为 {','.join(header)[:200]}", 1, code="division_header_invalid"
            )
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise InvalidDivision(f"应有{len(COLUMNS)}列，实有{len(row)}列", line, code="division_columns_invalid")
            yield line, parse_division(row[0], row[1], row[2], row[3], line)
    except csv.Error as exc:
        # The csv module refuses a field over its limit (128 KiB) and malformed quoting.
        limit_kib = csv.field_size_limit() // 1024
        if "field limit" in str(exc):
            raise InvalidDivision(
                f"字段超过 {limit_kib} KiB", reader.line_num, code="division_field_too_large"
            ) from None
        raise InvalidDivision(f"CSV 格式错误（{exc}）", reader.line_num, code="division_csv_malformed") from None


def decode_division_file(data: bytes) -> str:
    """The file's text; a file that is not UTF-8 is refused with the line of its first bad byte."""
    try:
        # utf-8-sig: files saved by spreadsheet programs start with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidDivision("文件不是 UTF-8 编码（请以 UTF-8 另存为 CSV）", line, code="division_not_utf8") from None


def read_division_file(path: Path) -> list[tuple[int, Division]]:
    return list(read_divisions(decode_division_file(path.read_bytes())))
