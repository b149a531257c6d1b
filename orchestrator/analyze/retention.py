"""Disk projection: how much disk each broker needs once retention is reached, and when it fills.

Per topic, the write rate (bytes/s produced into it over the measured window) times the retention
period times the replication factor, spread evenly over the brokers, is the disk each broker needs
at steady state (``retention.bytes`` per partition caps it when set). Per broker, the observed
log-dir growth (least-squares slope of ``broker.log_dir_bytes``) against the free space gives the
days until full: the ``broker.log_dir_free_bytes`` series when a source reports it, else, for the
local target, the free space of the disk under the run's broker directory.
The broker default retention (7 days) applies to topics without ``retention``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestrator.analyze.window import Window
from orchestrator.collect.timeline import Timeline
from orchestrator.plan.models import Plan, ProducerWorkload

DEFAULT_RETENTION_S = 7 * 86400.0
WEEK_S = 7 * 86400.0


@dataclass(frozen=True)
class TopicProjection:
    topic: str
    write_bytes_per_s: float
    retention_s: float
    replication_factor: int
    brokers: int
    per_broker_bytes: float  # steady state, with the plan's retention
    week_per_broker_bytes: float  # what a week of retention would take
    capped_by_retention_bytes: bool


@dataclass(frozen=True)
class BrokerProjection:
    host: str
    current_bytes: float
    growth_bytes_per_s: float | None
    free_bytes: float | None
    days_until_full: float | None  # None: not growing, or free space unknown


def _window_total(timeline: Timeline, metric: str, workload: str, window: Window) -> float:
    total = 0.0
    for series in timeline.select(metric, workload=workload).values():
        total += sum(series[i] or 0.0 for r in window.indices(timeline) for i in r)
    return total


def topic_projections(plan: Plan, timeline: Timeline, window: Window, brokers: int) -> list[TopicProjection]:
    out = []
    for topic in plan.topics:
        writers = [w.name for w in plan.workloads if isinstance(w, ProducerWorkload) and w.topic == topic.name]
        mb = sum(_window_total(timeline, "produce.throughput_mb", w, window) for w in writers)
        rate = mb * 1e6 / window.seconds if window.seconds else 0.0
        retention = topic.retention or DEFAULT_RETENTION_S
        # each broker holds at most one replica of a partition: a cluster smaller than the
        # replication factor (as reported) is taken to have at least that many brokers
        cluster = max(brokers, topic.replication_factor)
        spread = topic.replication_factor / cluster
        need, week = rate * retention * spread, rate * WEEK_S * spread
        capped = False
        if topic.retention_bytes is not None:
            cap = topic.retention_bytes * topic.partitions * spread
            capped = need > cap
            need, week = min(need, cap), min(week, cap)
        out.append(TopicProjection(topic.name, rate, retention, topic.replication_factor, cluster, need, week, capped))
    return out


def _slope(values: list[float | None]) -> float | None:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    x, y = np.array(points, dtype=float).T
    return float(np.polyfit(x, y, 1)[0])


def _per_host(timeline: Timeline, metric: str) -> dict[str, list[float | None]]:
    """A broker's series summed over its log dirs (device) per second; per-partition series
    (label set) are left out because the log-dir total already counts them."""
    grouped: dict[str, list[list[float | None]]] = {}
    for key, series in timeline.select(metric).items():
        if key.label is None and key.workload is None:
            grouped.setdefault(key.host or "broker", []).append(series)
    return {host: [None if all(v is None for v in col) else sum(v or 0.0 for v in col) for col in zip(*parts)]
            for host, parts in sorted(grouped.items())}


def broker_projections(timeline: Timeline, local_free_bytes: float | None = None) -> list[BrokerProjection]:
    """``local_free_bytes``: free space of the disk that holds a local broker's logs, for brokers
    without a ``broker.log_dir_free_bytes`` series."""
    free = _per_host(timeline, "broker.log_dir_free_bytes")
    out = []
    for host, series in _per_host(timeline, "broker.log_dir_bytes").items():
        present = [v for v in series if v is not None]
        if not present:
            continue
        growth = _slope(series)
        free_now = next((v for v in reversed(free.get(host, [])) if v is not None), local_free_bytes)
        days = free_now / growth / 86400.0 if growth and growth > 0 and free_now is not None else None
        out.append(BrokerProjection(host, present[-1], growth, free_now, days))
    return out
