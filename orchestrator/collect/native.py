"""Native runner interval records (raw/native/**/*.jsonl) ▶ per-second series and workload totals.

Records are JSON lines ``{"type": "start" | "interval" | "end", ...}``; interval counts are deltas
for the interval ``[start, ts]`` and are put at the second of its midpoint. All instance files are
read together in time order (a heap merge of the streams), so the instances of a workload are
combined per second without holding more than one record per file: counts and rates add up,
latency statistics come from the instances' histograms merged for that second: every statistic an
SLO may name (``LATENCY_STATS``: <kind>.p50 … p999, max, mean, in ms), so that ``sustained`` works on
each of them.

Producers also give ``produce.sent`` (sends that second), ``produce.intended_rate`` (the schedule's
rate that second, instances summed; throttled phases only), and, from runners that record them,
``produce.in_flight`` (messages without a delivery report at the end of the second, instances summed)
and ``produce.oldest_in_flight`` (ms the oldest of them had waited at least, the worst instance): what
``orchestrator.analyze.stall`` needs to tell a stalled second from one without data. Consumers give
``consume.position_lag``: log end offset minus the consumer's own position, summed over its
partitions, at the end of each second (the interval records' ``lag``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Iterator

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.jsonlines import MALFORMED, json_lines
from orchestrator.collect.histograms import LATENCY_STATS, HistogramStore, SparseHistogram
from orchestrator.collect.ranges import Ranges, add_ranges
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder

PRODUCER_KINDS = ("publish_latency", "publish_delay", "corrected_latency")
CONSUMER_KINDS = ("e2e_latency",)


@dataclass
class NativeTotals:
    """Whole-run totals of one native workload, over all its instances."""

    name: str
    role: str
    first: float | None = None
    last: float | None = None
    messages: int = 0  # acked (producer) or received (consumer)
    bytes: int = 0
    errors: int = 0
    duplicated: int = 0
    redelivered: int = 0  # read again at an offset already read (the group went back to a commit)
    out_of_order: int = 0
    instances: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)  # instances that wrote an end record
    hists: dict[str, SparseHistogram] = field(default_factory=dict)
    ranges: Ranges = field(default_factory=dict)  # acked (producer) or seen (consumer)
    acked_offsets: dict[str, tuple[int, int]] = field(default_factory=dict)  # producer: per stream, lowest and highest acked
    start_offsets: dict[int, int] = field(default_factory=dict)  # consumer: per partition, the lowest start of any instance
    end_offsets: dict[int, int] = field(default_factory=dict)  # consumer: per partition, the furthest final position
    end_duplicated: int = 0
    end_out_of_order: int = 0
    error_codes: dict[str, tuple[int, float]] = field(default_factory=dict)  # Kafka error name -> (count, first ts)
    cpu_s: float | None = None  # the instances' own CPU time, from the end records that carry it

    @property
    def duration_s(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last is not None else 0.0


@dataclass
class _Interval:
    slot: int
    ts: float
    start: float
    record: dict
    path: Path
    line: int


def _records(path: Path, diag: Diagnostics, totals: dict[str, NativeTotals], hosts: set[str]) -> Iterator[_Interval]:
    """One file's interval records in order; start/end records update ``totals`` as they pass."""
    clock = None
    for line_no, record in json_lines(path, diag):
        try:
            kind, workload = record["type"], str(record["workload"])
            instance = f"{workload}/{record.get('instance', '')}"
            total = totals.setdefault(workload, NativeTotals(workload, str(record.get("role", ""))))
            total.role = total.role or str(record.get("role", ""))
            total.instances.add(instance)
            if record.get("host"):
                hosts.add(str(record["host"]))
            if kind == "end":
                _end(total, instance, record)
                if record.get("error"):
                    diag.note(path, f"{instance} stopped ({record.get('reason', 'error')}): {record['error']}", line_no)
            if kind != "interval":
                continue
            ts = float(record["ts"])
            start = float(record.get("start", ts - 1.0))
        except (ValueError, KeyError, TypeError, AttributeError):
            diag.count(path, MALFORMED, line_no)
            continue
        clock = clock or ClockWatch(diag, path, max(1.0, ts - start))
        clock.see(int(ts), line_no)
        yield _Interval(int((start + ts) / 2), ts, start, record, path, line_no)


def _end(total: NativeTotals, instance: str, record: dict) -> None:
    add_ranges(total.ranges, record.get("acked_ranges") or record.get("seen_ranges") or {})
    for key, (low, high) in (record.get("acked_offsets") or {}).items():
        known = total.acked_offsets.get(key)
        total.acked_offsets[key] = (int(low), int(high)) if known is None else (min(known[0], int(low)), max(known[1], int(high)))
    _merge(total.start_offsets, record.get("start_offsets"), min)
    _merge(total.end_offsets, record.get("end_offsets"), max)
    total.end_duplicated += int(record.get("duplicated", 0))
    total.end_out_of_order += int(record.get("out_of_order", 0))
    if record.get("cpu_s") is not None:
        total.cpu_s = (total.cpu_s or 0.0) + float(record["cpu_s"])
    total.ended.add(instance)


def _count_codes(codes: dict[str, tuple[int, float]], found: dict | None, ts: float) -> None:
    for code, n in (found or {}).items():
        count, first = codes.get(str(code), (0, ts))
        codes[str(code)] = (count + int(n), min(first, ts))


def _merge(into: dict[int, int], offsets: object, keep) -> None:
    for partition, offset in (offsets or {}).items():  # type: ignore[union-attr]
        p = int(partition)
        into[p] = int(offset) if p not in into else keep(into[p], int(offset))


class NativeReader:
    def __init__(self, builder: TimelineBuilder, store: HistogramStore, diag: Diagnostics):
        self.builder, self.store, self.diag = builder, store, diag
        self.workloads: dict[str, NativeTotals] = {}
        self.hosts: set[str] = set()
        self._stat_keys: dict[tuple[str, str], list[SeriesKey]] = {}

    def read(self, paths: list[Path]) -> None:
        streams = [_records(p, self.diag, self.workloads, self.hosts) for p in paths]
        merged = heapq.merge(*streams, key=lambda r: r.slot)
        for slot, group in groupby(merged, key=lambda r: r.slot):
            by_workload: dict[str, list[_Interval]] = {}
            for interval in group:
                by_workload.setdefault(str(interval.record["workload"]), []).append(interval)
            for workload, intervals in by_workload.items():
                self._second(slot, self.workloads[workload], intervals)

    def _second(self, slot: int, total: NativeTotals, intervals: list[_Interval]) -> None:
        producer = total.role == "producer"
        kinds = PRODUCER_KINDS if producer else CONSUMER_KINDS
        second_hists = {k: SparseHistogram() for k in kinds}
        lag: int | None = None
        in_flight: list[tuple[int, float]] = []  # (messages, oldest wait in ms) per producer instance
        for item in intervals:
            r = item.record
            seconds = max(item.ts - item.start, 1e-3)
            try:
                count = int(r["acked"] if producer else r["received"])
                nbytes, errors = int(r.get("bytes", 0)), int(r.get("errors", 0))
                sent = int(r.get("sent", count)) if producer else 0
                flight = ((int(r["in_flight"]), float(r.get("oldest_in_flight_ms") or 0.0))
                          if producer and r.get("in_flight") is not None else None)
                for kind in kinds:
                    data = (r.get("hist") or {}).get(kind)
                    if data:
                        second_hists[kind].add_dict(data)
                        self.store.put(kind, total.name, slot, data)
            except (KeyError, ValueError, TypeError, AttributeError):
                self.diag.count(item.path, "interval records with missing or malformed counts skipped", item.line)
                continue
            family = "produce" if producer else "consume"
            self.builder.add(SeriesKey(f"{family}.rate", workload=total.name), slot, count / seconds)
            self.builder.add(SeriesKey(f"{family}.throughput_mb", workload=total.name), slot, nbytes / 1e6 / seconds)
            if producer:
                _count_codes(total.error_codes, r.get("error_codes"), item.start)
                self.builder.add(SeriesKey("produce.errors", workload=total.name), slot, float(errors))
                self.builder.add(SeriesKey("produce.sent", workload=total.name), slot, float(sent))
                if r.get("target_rate") is not None:  # throttled: the schedule's rate, instances summed
                    self.builder.add(SeriesKey("produce.intended_rate", workload=total.name), slot, float(r["target_rate"]))
                if flight is not None:
                    in_flight.append(flight)
            else:
                total.duplicated += int(r.get("duplicated", 0))
                total.redelivered += int(r.get("redelivered", 0))
                total.out_of_order += int(r.get("out_of_order", 0))
                if r.get("lag") is not None:
                    lag = (lag or 0) + int(r["lag"])
            total.messages += count
            total.bytes += nbytes
            total.errors += errors
            total.first = item.start if total.first is None else min(total.first, item.start)
            total.last = item.ts if total.last is None else max(total.last, item.ts)
        self._percentiles(slot, total, second_hists)
        if in_flight:
            self.builder.set(SeriesKey("produce.in_flight", workload=total.name), slot, float(sum(n for n, _ in in_flight)))
            self.builder.set(SeriesKey("produce.oldest_in_flight", workload=total.name), slot,
                             max((wait for n, wait in in_flight if n), default=0.0))
        if lag is not None:
            self.builder.set(SeriesKey("consume.position_lag", workload=total.name), slot, float(lag))

    def _percentiles(self, slot: int, total: NativeTotals, second_hists: dict[str, SparseHistogram]) -> None:
        for kind, hist in second_hists.items():
            if not hist.count:
                continue
            total.hists.setdefault(kind, SparseHistogram()).merge(hist)
            keys = self._stat_keys.get((kind, total.name))
            if keys is None:
                keys = self._stat_keys[kind, total.name] = [SeriesKey(f"{kind}.{stat}", workload=total.name)
                                                              for stat in LATENCY_STATS]
            for key, value in zip(keys, hist.stats()):
                self.builder.set(key, slot, value / 1000.0)
