"""Kafka admin samples (raw/kafka_admin/samples.jsonl, written by ``KafkaAdminMonitor``) ▶ series and events.

One JSON object per sample::

    {"ts": 1795596805.2, "controller": 1, "brokers": [1, 2, 3],
     "partitions": [{"topic": "orders", "partition": 0, "leader": 1, "replicas": [1, 2, 3], "isr": [1, 2]}],
     "groups": {"<workload>": {"group": "orchestrate-<workload>", "lag": {"orders/0": 12}}},
     "log_dirs": {"<broker id>": {"orders-0": 1048576}} | null, "log_dirs_source": "local" | "describeLogDirs" | "local+describeLogDirs" | "unavailable",
     "errors": ["describe_topics: ..."]}

Series: ``consume.lag`` per workload (sum over partitions; ``label`` holds the consumer group, to
tell it from the runner's own lag), ``broker.log_dir_bytes`` per broker (``host`` = broker id),
``broker.under_replicated`` and ``broker.offline_partitions`` for the cluster. Events: ``isr_change``
for a partition whose in-sync replicas differ from the previous sample. No event comes from
``controller``: in KRaft a Metadata response names an arbitrary live broker as controller, not the
active quorum controller, so it changes between samples of a steady cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.jsonlines import MALFORMED, json_lines
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.summary import Event


@dataclass
class AdminResult:
    events: list[Event] = field(default_factory=list)
    brokers: set[str] = field(default_factory=set)
    max_lag: dict[str, int] = field(default_factory=dict)  # workload -> peak group lag


def _partition_state(partitions: list[dict]) -> tuple[dict[str, tuple[int, ...]], int, int]:
    """ISR per "topic-partition", and the under-replicated and offline partition counts."""
    isr: dict[str, tuple[int, ...]] = {}
    under = offline = 0
    for p in partitions:
        members = tuple(sorted(int(b) for b in p.get("isr") or []))
        isr[f"{p['topic']}-{p['partition']}"] = members
        under += len(members) < len(p.get("replicas") or [])
        offline += p.get("leader") is None or int(p["leader"]) < 0
    return isr, under, offline


def read_admin_samples(path: Path, builder: TimelineBuilder, diag: Diagnostics, interval: float) -> AdminResult:
    result = AdminResult()
    if not path.exists():
        return result
    clock = ClockWatch(diag, path, interval)
    previous: dict = {}  # the last sample's "isr" map and "controller"
    for line_no, sample in json_lines(path, diag):
        try:
            ts = float(sample["ts"])
            clock.see(int(ts), line_no)
            for error in sample.get("errors") or []:
                diag.count(path, f"admin sample errors ({str(error).split(':')[0]})", line_no)
            _sample(ts, sample, previous, builder, result)
        except (ValueError, KeyError, TypeError, AttributeError):
            diag.count(path, MALFORMED, line_no)
    return result


def _sample(ts: float, sample: dict, previous: dict, builder: TimelineBuilder, result: AdminResult) -> None:
    second = int(ts)
    if sample.get("partitions") is not None:
        isr, under, offline = _partition_state(sample["partitions"])
        builder.set(SeriesKey("broker.under_replicated"), second, float(under))
        builder.set(SeriesKey("broker.offline_partitions"), second, float(offline))
        if "isr" in previous:
            result.events.extend(_isr_events(ts, previous["isr"], isr))
        previous["isr"] = isr
    result.brokers.update(str(b) for b in sample.get("brokers") or [])
    _groups(sample.get("groups") or {}, second, builder, result)
    for broker, sizes in (sample.get("log_dirs") or {}).items():
        builder.set(SeriesKey("broker.log_dir_bytes", host=str(broker)), second, float(sum(int(v) for v in sizes.values())))


def _isr_events(ts: float, before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]]) -> list[Event]:
    return [Event(ts=ts, kind="isr_change", name=name, detail=f"isr {list(before[name])} -> {list(members)}")
            for name, members in sorted(after.items()) if name in before and before[name] != members]


def _groups(groups: dict, second: int, builder: TimelineBuilder, result: AdminResult) -> None:
    for workload, data in groups.items():
        lag = sum(int(v) for v in (data.get("lag") or {}).values())
        builder.set(SeriesKey("consume.lag", workload=workload, label=str(data.get("group", ""))), second, float(lag))
        result.max_lag[workload] = max(result.max_lag.get(workload, 0), lag)
