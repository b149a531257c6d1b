"""The brokers' JMX (raw/jmx/<broker>.tsv) and the hosts (raw/host/<host>.jsonl) ▶ timeline series.

Both are sampled every few seconds; each value describes the interval since the previous sample
(a rate, an interval mean, a CPU share) and is set on every second of that interval, so that
brokers sampled at different seconds add up, and a ``sustained`` SLO sees an unbroken series. A
gap longer than ``GAP_INTERVALS`` intervals (the broker or its sampler was down) is not filled: the
value goes on the sample's second alone. Series: ``SeriesKey(<catalogue name>, host=<broker id or host>)``.

JmxTool's tsv (see ``orchestrator.execute.broker_jmx``): blocks of ``key\\tvalue`` lines, each led by
``time\\t<epoch ms>``; a key is ``<object name>:<attribute>``; a composite value (the heap) is Java's
``CompositeDataSupport(...contents={committed=1, init=2, max=3, used=4})``. A block cut short when
JmxTool was stopped is skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.jsonlines import json_lines, text_lines
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.plan.sources import JMX_METRICS, ROLE_MARKERS, JmxMetric

GAP_INTERVALS = 3
_COMPOSITE_FIELD = re.compile(r"(\w+)=(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


def spread(builder: TimelineBuilder, key: SeriesKey, previous: float | None, ts: float, value: float,
           interval: float) -> None:
    """``value``, measured over (previous, ts], on each second of that span."""
    end = int(ts)
    start = int(previous) + 1 if previous is not None and ts - previous <= GAP_INTERVALS * interval else end
    for second in range(min(start, end), end + 1):
        builder.set(key, second, value)


# --------------------------------------------------------------------------- JMX


@dataclass(frozen=True)
class JmxBlock:
    ts: float  # epoch seconds
    values: dict[tuple[str, str], float | dict[str, float]]  # (object name, attribute) -> value
    line: int  # of its time line, for diagnostics


def _object(name: str) -> tuple[str, dict[str, str]]:
    domain, _, props = name.partition(":")
    return domain, dict(p.split("=", 1) for p in props.split(",") if "=" in p)


def matches(pattern: str, name: str) -> bool:
    """Whether object ``name`` is one the catalogue's ``pattern`` names (``*`` matches any value)."""
    want_domain, want = _object(pattern)
    domain, props = _object(name)
    return domain == want_domain and props.keys() == want.keys() and all(
        v == "*" or props[k] == v for k, v in want.items())


def _value(text: str) -> float | dict[str, float] | None:
    if "contents={" in text:
        return {k: float(v) for k, v in _COMPOSITE_FIELD.findall(text.partition("contents={")[2])}
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def read_jmx_blocks(path: Path, diag: Diagnostics) -> Iterator[JmxBlock]:
    """The complete blocks of one JmxTool file (several runs of JmxTool append to it)."""
    ts: float | None = None
    values: dict[tuple[str, str], float | dict[str, float]] = {}
    start, size, previous_size = 0, 0, 0
    for line_no, raw in text_lines(path, diag):
        key, sep, text = raw.rstrip("\n").partition("\t")
        if not sep:
            if raw.strip():
                diag.count(path, "lines that are not JmxTool tsv skipped", line_no)
            continue
        if key == "time":
            if ts is not None:
                yield JmxBlock(ts, values, start)
                previous_size = size
            try:
                ts, values, start, size = float(text) / 1000.0, {}, line_no, 0
            except ValueError:
                ts = None
                diag.count(path, "JmxTool blocks with an unreadable time skipped", line_no)
            continue
        if ts is None:
            continue
        size += 1
        name, _, attribute = key.rpartition(":")
        value = _value(text)
        if value is not None:
            values[(name, attribute)] = value
    if ts is not None and size >= previous_size:
        yield JmxBlock(ts, values, start)
    elif ts is not None:
        diag.count(path, "incomplete JmxTool block at the end skipped (JmxTool was stopped mid-write)", start)


@dataclass
class _Reading:
    """What one catalogue metric needs from a block: its attribute summed over the matching MBeans
    and, for interval means, their Count."""

    total: float
    count: float = 0.0


def _reading(metric: JmxMetric, names: list[str], block: JmxBlock) -> _Reading | None:
    attribute, _, part = metric.attribute.partition(".")
    total, count, found = 0.0, 0.0, False
    for name in names:
        value = block.values.get((name, attribute))
        if isinstance(value, dict):
            value = value.get(part)
        if not isinstance(value, float):
            continue
        found = True
        if metric.derive == "interval_mean":
            n = block.values.get((name, "Count"))
            if not isinstance(n, float):
                continue
            total, count = total + value * n, count + n
        else:
            total += value
    return _Reading(total, count) if found else None


def _derived(metric: JmxMetric, now: _Reading, before: _Reading | None, seconds: float) -> float | None:
    if metric.derive == "gauge":
        return now.total * metric.scale
    if before is None or seconds <= 0:
        return None
    if metric.derive == "rate":
        grew = now.total - before.total
        return grew / seconds * metric.scale if grew >= 0 else None  # a counter that went down: a restart
    requests = now.count - before.count
    return (now.total - before.total) / requests * metric.scale if requests > 0 else None


@dataclass
class _JmxState:
    names: dict[str, list[str]] = field(default_factory=dict)  # catalogue metric -> object names it matches
    seen: set[str] = field(default_factory=set)
    last: dict[str, _Reading] = field(default_factory=dict)
    last_ts: float | None = None
    pools: int = 1  # request-handler pools: 2 on a combined broker and controller node


def read_jmx(path: Path, builder: TimelineBuilder, diag: Diagnostics, interval: float) -> None:
    """One broker's JmxTool file into the timeline (series host = the file's stem, the broker id)."""
    broker, state, clock = path.stem, _JmxState(), ClockWatch(diag, path, interval)
    for block in read_jmx_blocks(path, diag):
        clock.see(int(block.ts), block.line)
        new = {name for name, _ in block.values} - state.seen
        if new:
            state.seen |= new
            state.names = {m.name: sorted(n for n in state.seen if matches(m.mbean, n)) for m in JMX_METRICS}
            state.pools = max(1, sum(1 for marker in ROLE_MARKERS if marker in state.seen))
        seconds = block.ts - state.last_ts if state.last_ts is not None else 0.0
        for metric in JMX_METRICS:
            reading = _reading(metric, state.names[metric.name], block)
            if reading is None:
                state.last.pop(metric.name, None)
                continue
            value = _derived(metric, reading, state.last.get(metric.name), seconds)
            if value is not None and metric.per_pool:
                # a handler marks its idle time when its 300 ms poll returns, so an interval can hold
                # a little more idle time than it lasted: a share, capped at all of it
                value = min(value / state.pools, 100.0)
            state.last[metric.name] = reading
            if value is not None:
                spread(builder, SeriesKey(metric.name, host=broker), state.last_ts, block.ts, value, interval)
        state.last_ts = block.ts


# --------------------------------------------------------------------------- hosts


def read_host(path: Path, builder: TimelineBuilder, diag: Diagnostics, interval: float) -> None:
    """One host's samples (``orchestrator.execute.host_metrics``) into the timeline (host = the file's stem)."""
    host, clock = path.stem, ClockWatch(diag, path, interval)
    before: dict | None = None
    for line_no, sample in json_lines(path, diag):
        try:
            ts = float(sample["ts"])
        except (ValueError, TypeError, KeyError):
            diag.count(path, "host samples without a time skipped", line_no)
            continue
        clock.see(int(ts), line_no)
        previous = float(before["ts"]) if before is not None else None
        values = {"host.cpu": sample.get("cpu"), "host.memory": sample.get("memory")}
        if before is not None and ts > before["ts"]:
            for metric, counter in (("host.net_rx_mb", "net_rx_bytes"), ("host.net_tx_mb", "net_tx_bytes")):
                grew = _number(sample.get(counter)) - _number(before.get(counter))
                values[metric] = grew / (ts - before["ts"]) / 1e6 if grew == grew and grew >= 0 else None
        for metric, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                spread(builder, SeriesKey(metric, host=host), previous, ts, float(value), interval)
        before = sample


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
