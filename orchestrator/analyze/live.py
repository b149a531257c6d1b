"""A rolling per-second view of a run in progress, for SLOs that abort the run.

Each ``read()`` takes only what the native runner appended since the last one (byte offsets per
file), hands those lines to the collector's own parser, and keeps the last ``keep_s`` seconds, so
one check costs what the run wrote since the previous check, however long the run is.

A second is taken once it is ``SETTLE_S`` old, when every instance has written its record for it;
a file's lines from younger seconds wait for the next read.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.histograms import HistogramStore
from orchestrator.collect.native import NativeReader
from orchestrator.collect.timeline import SeriesKey, Timeline, TimelineBuilder
from orchestrator.rundir import RunDir
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import PhaseSpan, WorkloadSummary

SETTLE_S = 3


def _kind_and_slot(line: bytes) -> tuple[str, int | None]:
    """The record type, and for an interval the second it lands in (as the collector places it).
    A line that does not parse is passed on as it is, for the collector to count."""
    try:
        record = json.loads(line)
        if record.get("type") != "interval":
            return str(record.get("type")), None
        ts = float(record["ts"])
        return "interval", int((float(record.get("start", ts - 1.0)) + ts) / 2)
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", None


class LiveTail:
    """``histograms``: a store that keeps every second's latency histograms as they are read (a
    search judges its probes on them); without one they are dropped after each read."""

    def __init__(self, run: RunDir, keep_s: int, histograms: HistogramStore | None = None):
        self.run, self.keep_s, self.histograms = run, keep_s, histograms
        self.offsets: dict[Path, int] = {}
        self.headers: dict[Path, list[bytes]] = {}  # start records: the parser needs each file's role
        self.points: dict[SeriesKey, dict[int, float]] = {}

    def _new_lines(self, path: Path, settled: int) -> list[bytes]:
        taken: list[bytes] = []
        with path.open("rb") as stream:
            stream.seek(self.offsets.get(path, 0))
            for line in stream:
                if not line.endswith(b"\n"):
                    break  # still being written
                kind, slot = _kind_and_slot(line)
                if slot is not None and slot > settled:
                    break
                (self.headers.setdefault(path, []) if kind == "start" else taken).append(line)
                self.offsets[path] = self.offsets.get(path, 0) + len(line)
        return taken

    def read(self, now: float | None = None) -> Timeline:
        settled = int(time.time() if now is None else now) - SETTLE_S
        with tempfile.TemporaryDirectory(prefix="orchestrate-live-") as tmp:
            chunks = []
            for i, path in enumerate(sorted(self.run.raw_native.rglob("*.jsonl"))):
                lines = self._new_lines(path, settled)
                if lines:
                    chunk = Path(tmp) / f"{i}.jsonl"
                    chunk.write_bytes(b"".join(self.headers.get(path, [])) + b"".join(lines))
                    chunks.append(chunk)
            builder = TimelineBuilder()
            store = self.histograms or HistogramStore(Path(tmp) / "histograms.jsonl")
            NativeReader(builder, store, Diagnostics(Path(tmp))).read(chunks)
            if store is not self.histograms:
                store.close()
            self._keep(builder.build())
        return self._timeline()

    def _keep(self, fresh: Timeline) -> None:
        for key, values in fresh.series.items():
            mine = self.points.setdefault(key, {})
            for ts, value in zip(fresh.times(), values):
                if value is not None:
                    mine[ts] = value
        newest = max((max(p) for p in self.points.values() if p), default=None)
        if newest is not None:
            for key, points in self.points.items():
                self.points[key] = {ts: v for ts, v in points.items() if ts > newest - self.keep_s}

    def _timeline(self) -> Timeline:
        seconds = [ts for points in self.points.values() for ts in points]
        if not seconds:
            return Timeline(start=0, length=0)
        first, last = min(seconds), max(seconds)
        timeline = Timeline(start=first, length=last - first + 1)
        for key, points in self.points.items():
            timeline.series[key] = [points.get(ts) for ts in timeline.times()]
        return timeline


@dataclass
class LiveMeasured:
    """What a ``LiveTail`` with a histogram store has read, as the ``Measured`` that verdicts take."""

    timeline: Timeline
    store: HistogramStore
    phases: list[PhaseSpan] = field(default_factory=list)
    workloads: list[WorkloadSummary] = field(default_factory=list)

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        return self.store.histogram(kind, workload, start, end)
