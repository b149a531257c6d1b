"""results/timeline.csv: the whole timeline, wide: ``ts`` (epoch seconds, UTC) and one column per
series named by ``SeriesKey.column()``; an empty cell is a second without data. Values keep six
significant digits."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from orchestrator.collect.timeline import Timeline


def _cells(values: list[float | None]) -> list[str]:
    return ["" if v is None else f"{v:.6g}" for v in values]


def write_timeline_csv(timeline: Timeline, path: Path) -> None:
    keys = sorted(timeline.series, key=lambda k: k.column())
    header = io.StringIO()
    csv.writer(header).writerow(["ts", *(k.column() for k in keys)])  # names may hold commas: quote them
    # formatted a column at a time and joined once: a 24-hour run has millions of cells
    columns = [[str(t) for t in timeline.times()], *(_cells(timeline.series[k]) for k in keys)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(header.getvalue().replace("\r\n", "\n"))
        out.writelines(",".join(row) + "\n" for row in zip(*columns))
