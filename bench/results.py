"""The one shape every benchmark reports its figures in, and the table ``make bench`` prints.

A benchmark ends with :func:`emit`: its rows, each a figure beside the baseline measured in the same run,
the goal and whether it is met. Each row is also printed as one ``BENCH-RESULT`` JSON line, which
``bench/run.py`` collects from every benchmark into one table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

MARK = "BENCH-RESULT "


@dataclass(frozen=True)
class Row:
    what: str
    figure: float
    unit: str
    baseline: float | None  # measured in the same run
    baseline_label: str  # what the baseline is
    goal: str
    met: bool | None  # None: no goal, a figure to report


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def verdict(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "MISSED")


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value) or math.isnan(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def table(rows: Sequence[tuple[str, Row]]) -> str:
    """Rows of several benchmarks as one aligned table."""
    header = ("benchmark", "figure", "value", "baseline (same run)", "goal", "")
    lines = [header]
    for bench, row in rows:
        baseline = f"{number(row.baseline)} {row.baseline_label}".strip() if row.baseline is not None else "-"
        lines.append(
            (bench, row.what, f"{number(row.figure)} {row.unit}".strip(), baseline, row.goal, verdict(row.met))
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(out)


def emit(bench: str, rows: Sequence[Row], as_json: bool = True) -> None:
    """Print the rows as a table and, for ``bench/run.py``, as ``BENCH-RESULT`` lines."""
    print()
    print(table([(bench, row) for row in rows]))
    if as_json:
        for row in rows:
            print(MARK + json.dumps({"bench": bench, **asdict(row)}), flush=True)
