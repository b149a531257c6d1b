"""results/timeline.csv: the whole timeline, wide: ``ts`` (epoch seconds, UTC) and one column per
series named by ``SeriesKey.column()``; an empty cell is a second without data."""

from __future__ import annotations

import csv
from pathlib import Path

from orchestrator.collect.timeline import Timeline


def write_timeline_csv(timeline: Timeline, path: Path) -> None:
    keys = sorted(timeline.series, key=lambda k: k.column())
    columns = [timeline.series[k] for k in keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["ts", *(k.column() for k in keys)])
        for i, ts in enumerate(timeline.times()):
            writer.writerow([ts, *("" if c[i] is None else f"{c[i]:.6g}" for c in columns)])
