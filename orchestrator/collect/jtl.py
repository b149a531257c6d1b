"""JMeter results (JTL) ▶ per-second series and per-label aggregates, streamed in bounded memory.

CSV JTLs are read through their header when they have one (any column set holding timeStamp,
elapsed, label and success); a headerless file is matched by its field count to JMeter's default
17 columns or Taurus's 13-column kpi.jtl. Quoted commas and newlines in labels and messages are
the csv module's job. XML JTLs are read with iterparse, top-level samples only (sub-samples of a
transaction are not counted twice), clearing each element once read.

Per-second cells (label × second, each an exact {elapsed ms: count} map) are kept only until the
newest timestamp seen is ``LATE_WINDOW_S`` past them: a JTL is written in completion order while
timeStamp is the start, so a slow sample arrives after younger ones. A sample later than that still
counts in the label totals, with a warning; only its per-second point is lost.

``jmeter.rate`` counts successful samples per second and ``jmeter.errors`` failed ones, so that
``jmeter.error_rate`` = errors / (errors + successes), in percent.

A generated producer (``per_message``) writes one sample per batch of sends, labelled
``batch_label(workload)``, with one sub-sample per message: batch rows are skipped (kpi.jtl holds
nothing else; messages.jtl has them before their messages), and a message's ``Connect`` is its
publish delay (intended ▶ actual send), so that its elapsed time is the publish latency and
elapsed + Connect the corrected latency, the three latencies the native producer reports.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.histograms import PERCENTILES, HistogramStore
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.rundir import batch_label
from orchestrator.runner.histogram import bucket_index
from orchestrator.summary import LatencyStats

LATE_WINDOW_S = 120
JMETER_COLUMNS = ("timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
                  "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect").split(",")
TAURUS_COLUMNS = ("timeStamp,elapsed,label,responseCode,responseMessage,threadName,success,bytes,"
                  "grpThreads,allThreads,Latency,Hostname,Connect").split(",")
_REQUIRED = ("timeStamp", "elapsed", "label", "success")
# field count, then the index of timeStamp, elapsed, label, success, bytes, Connect and responseCode
# (None: no such column)
Layout = tuple[int, int, int, int, int, int | None, int | None, int | None]
# per label and second; the elapsed statistics are every one an SLO may name (``METRIC_PATTERN``)
_SERIES = ("jmeter.rate", "jmeter.errors", "jmeter.error_rate", "jmeter.elapsed.p50", "jmeter.elapsed.p90",
           "jmeter.elapsed.p95", "jmeter.elapsed.p99", "jmeter.elapsed.max", "jmeter.elapsed.mean")


def elapsed_stats(counts: dict[int, int]) -> LatencyStats:
    """Exact statistics (ms) of an {elapsed ms: count} map."""
    total = sum(counts.values())
    if not total:
        return LatencyStats()
    keys = sorted(counts)
    ranks = [(max(1, math.ceil(total * q / 100.0)), name) for name, q in PERCENTILES]
    found: dict[str, float] = {}
    seen = 0
    for key in keys:
        seen += counts[key]
        while ranks and seen >= ranks[0][0]:
            found[ranks.pop(0)[1]] = float(key)
    return LatencyStats(count=total, max=float(keys[-1]), mean=sum(k * n for k, n in counts.items()) / total, **found)


def _nearest_rank(ordered: list[int], q: float) -> float:
    return float(ordered[max(1, math.ceil(len(ordered) * q / 100.0)) - 1])


def _as_histogram(counts: Counter) -> dict:
    """An {elapsed ms: count} map in the runner's sparse histogram form (µs buckets)."""
    buckets: dict[str, int] = {}
    for ms, n in counts.items():
        key = str(bucket_index(max(0, ms) * 1000))
        buckets[key] = buckets.get(key, 0) + n
    return {"unit": "us", "counts": buckets, "count": sum(counts.values()), "min": max(0, min(counts)) * 1000,
            "max": max(0, max(counts)) * 1000, "sum": sum(max(0, k) * 1000 * n for k, n in counts.items())}


@dataclass
class JmeterLabel:
    """Whole-run aggregate of one sampler label (the report's per-label table)."""

    workload: str
    label: str
    count: int = 0
    errors: int = 0
    bytes: int = 0
    first: int | None = None  # epoch seconds of the first and last sample
    last: int | None = None
    elapsed: Counter = field(default_factory=Counter, repr=False)  # elapsed ms -> samples
    delay: Counter = field(default_factory=Counter, repr=False)  # per_message: publish delay ms -> messages
    corrected: Counter = field(default_factory=Counter, repr=False)  # per_message: elapsed + delay ms -> messages
    error_codes: dict[str, tuple[int, float]] = field(default_factory=dict)  # failed samples' responseCode -> (count, first s)

    def latency(self) -> LatencyStats:
        return elapsed_stats(self.elapsed)

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.count if self.count else 0.0

    @property
    def throughput_per_s(self) -> float:
        """Samples per second over the label's own span."""
        return self.count / (self.last - self.first + 1) if self.count and self.first is not None else 0.0


class JtlAggregator:
    """Per-second cells of one workload, flushed into the timeline once no late sample can reach them.

    A cell is ``[errors, bytes, [elapsed ms, ...], [delay ms, ...], {failed response code: count}]``
    (delays only ``per_message``):
    appending to a list is the cheapest thing the hot loop can do per row; sorting and counting happen
    once per cell, in C, when it is flushed."""

    def __init__(self, workload: str, builder: TimelineBuilder, store: HistogramStore, clock: ClockWatch | None = None,
                 per_message: bool = False):
        self.workload, self.builder, self.store, self.clock = workload, builder, store, clock
        self.per_message = per_message
        self.pending: dict[int, dict[str, list]] = {}  # second -> label -> cell
        self.labels: dict[str, JmeterLabel] = {}
        self.newest = -1
        self.flushed_to = -1  # every second up to this one has been written
        self.late = 0
        self._keys: dict[str | None, list[SeriesKey]] = {}

    def feed(self, rows: Iterator[list[str]], layout: Layout, path: Path, diag: Diagnostics,
             where: Callable[[], int | None]) -> None:
        """Aggregate rows of strings laid out as ``layout``; ``where`` gives the line of a bad row.

        The hot loop of every JTL: one pass, no per-row objects beyond the csv module's list."""
        width, i_ts, i_el, i_lb, i_ok, i_by, i_ct, i_rc = layout
        pending, bad, first_bad = self.pending, 0, None
        skip = batch_label(self.workload) if self.per_message else None
        delays = self.per_message and i_ct is not None
        while True:
            try:
                for row in rows:
                    try:
                        if len(row) != width:
                            raise ValueError
                        if row[i_lb] == skip:
                            continue
                        second, elapsed = int(row[i_ts]) // 1000, int(row[i_el])
                        nbytes = int(row[i_by]) if i_by is not None else 0
                        delay = int(row[i_ct]) if delays else 0
                    except ValueError:
                        bad += 1
                        first_bad = first_bad or where()
                        continue
                    if second > self.newest:
                        self.newest = second
                        if second - LATE_WINDOW_S > self.flushed_to:
                            self._flush(second - LATE_WINDOW_S)
                    cells = pending.get(second)
                    if cells is None:
                        if second <= self.flushed_to:
                            self._late(second, row[i_lb], elapsed, None if row[i_ok] == "true" else _code(row, i_rc),
                                       nbytes, delay)
                            continue
                        cells = pending[second] = {}
                    cell = cells.get(row[i_lb])
                    if cell is None:
                        cell = cells[row[i_lb]] = [0, 0, [], [], {}]
                    if row[i_ok] != "true":
                        cell[0] += 1
                        code = _code(row, i_rc)
                        cell[4][code] = cell[4].get(code, 0) + 1
                    cell[1] += nbytes
                    cell[2].append(elapsed)
                    if delays:
                        cell[3].append(delay)
                break
            except csv.Error:
                bad += 1
                first_bad = first_bad or where()
        if bad:
            diag.count(path, "malformed lines skipped", first_bad, n=bad)

    def _late(self, second: int, label: str, elapsed: int, failed: str | None, nbytes: int, delay: int) -> None:
        """``failed``: the response code of a failed sample, None for a success."""
        self.late += 1
        self._total(label, second, [0 if failed is None else 1, nbytes, [elapsed], [delay] if self.per_message else [],
                                    {} if failed is None else {failed: 1}])

    def _total(self, label: str, second: int, cell: list) -> None:
        totals = self.labels.get(label)
        if totals is None:
            totals = self.labels[label] = JmeterLabel(self.workload, label)
        totals.count += len(cell[2])
        totals.errors += cell[0]
        totals.bytes += cell[1]
        totals.first = second if totals.first is None else min(totals.first, second)
        totals.last = second if totals.last is None else max(totals.last, second)
        totals.elapsed.update(cell[2])
        for code, n in cell[4].items():
            count, first = totals.error_codes.get(code, (0, second))
            totals.error_codes[code] = (count + n, min(first, second))
        if cell[3]:
            totals.delay.update(cell[3])
            totals.corrected.update(map(sum, zip(cell[2], cell[3])))

    def _flush(self, upto: int) -> None:
        for second in sorted(s for s in self.pending if s <= upto):
            if self.clock is not None:
                self.clock.see(second)
            merged: list = [0, 0, [], [], {}]
            corrected: list[int] = []
            for label, cell in self.pending.pop(second).items():
                self._total(label, second, cell)  # before the sort: elapsed and delay pair up by row
                corrected.extend(map(sum, zip(cell[2], cell[3])))
                cell[2].sort()
                self._emit(second, label, cell)
                merged[0] += cell[0]
                merged[1] += cell[1]
                merged[2].extend(cell[2])
                merged[3].extend(cell[3])
            merged[2].sort()
            self._emit(second, None, merged)
            elapsed = _as_histogram(Counter(merged[2]))
            self.store.put("elapsed", self.workload, second, elapsed)
            if merged[3]:
                self.store.put("publish_latency", self.workload, second, elapsed)
                self.store.put("publish_delay", self.workload, second, _as_histogram(Counter(merged[3])))
                self.store.put("corrected_latency", self.workload, second, _as_histogram(Counter(corrected)))
        self.flushed_to = max(self.flushed_to, upto)

    def _emit(self, second: int, label: str | None, cell: list) -> None:
        """Per-second points of one cell whose elapsed list is sorted."""
        errors, values = cell[0], cell[2]
        points = (len(values) - errors, errors, 100.0 * errors / len(values), _nearest_rank(values, 50.0),
                  _nearest_rank(values, 90.0), _nearest_rank(values, 95.0), _nearest_rank(values, 99.0), values[-1],
                  sum(values) / len(values))
        keys = self._keys.get(label)
        if keys is None:
            keys = self._keys[label] = [SeriesKey(m, workload=self.workload, label=label) for m in _SERIES]
        for key, value in zip(keys, points):
            self.builder.set(key, second, float(value))

    def finish(self) -> list[JmeterLabel]:
        self._flush(self.newest)
        return sorted(self.labels.values(), key=lambda l: l.label)


def _code(row: list[str], i_rc: int | None) -> str:
    return (row[i_rc] if i_rc is not None else "") or "unknown"


def read_jtl(path: Path, agg: JtlAggregator, diag: Diagnostics) -> None:
    """Feed one JTL file (CSV or XML, told apart by its first character) into ``agg``."""
    try:
        with path.open("r", encoding="utf-8", errors="replace", newline="") as stream:
            head = stream.read(64).lstrip()
            stream.seek(0)
            if not head:
                diag.note(path, "empty JTL")
            elif head.startswith("<"):
                _read_xml(path, agg, diag)
            else:
                _read_csv(path, stream, agg, diag)
    except OSError as err:
        diag.note(path, f"cannot read: {err.strerror}")
    if agg.late:
        diag.count(path, f"samples arrived more than {LATE_WINDOW_S} s after younger ones (kept in label totals only)", n=agg.late)
        agg.late = 0


def _columns(first: list[str]) -> tuple[list[str], bool] | None:
    """The column names and whether ``first`` is a header row; None when the layout is unknown."""
    if all(name in first for name in _REQUIRED):
        return first, True
    numeric = len(first) > 1 and first[0].isdigit() and first[1].lstrip("-").isdigit()
    for columns in (JMETER_COLUMNS, TAURUS_COLUMNS):
        if numeric and len(first) == len(columns):
            return columns, False
    return None


def _read_csv(path: Path, stream, agg: JtlAggregator, diag: Diagnostics) -> None:
    reader = csv.reader(stream)
    try:
        first = next(reader)
    except csv.Error:
        first = []
    layout = _columns(first)
    if layout is None:
        diag.note(path, f"unknown JTL columns ({len(first)} fields, no timeStamp/elapsed/label/success header); file skipped", 1)
        return
    columns, has_header = layout
    if not has_header:
        stream.seek(0)
        reader = csv.reader(stream)
    layout = (len(columns), *(columns.index(n) for n in _REQUIRED), *(columns.index(n) if n in columns else None
                                                                       for n in ("bytes", "Connect", "responseCode")))
    agg.feed(reader, layout, path, diag, lambda: reader.line_num)


def _read_xml(path: Path, agg: JtlAggregator, diag: Diagnostics) -> None:
    try:
        agg.feed(_xml_rows(path), _XML_LAYOUT, path, diag, lambda: None)
    except ET.ParseError as err:
        diag.note(path, f"XML JTL is cut short or corrupt ({err}); samples before it were kept", err.position[0])


_XML_LAYOUT = (7, 0, 1, 2, 3, 4, 5, 6)


def _xml_rows(path: Path) -> Iterator[list[str]]:
    """Top-level samples as [ts, t, lb, s, by, ct, rc]; a sub-sample of a transaction is not a row."""
    depth, root = 0, None
    for event, elem in ET.iterparse(str(path), events=("start", "end")):
        if event == "start":
            root = elem if root is None else root
            depth += 1
            continue
        depth -= 1
        if depth == 1 and elem.tag in ("httpSample", "sample"):
            a = elem.attrib
            yield [a.get("ts", ""), a.get("t", ""), a.get("lb", ""), a.get("s", ""), a.get("by", "0"), a.get("ct", "0"), a.get("rc", "")]
            root.clear()
