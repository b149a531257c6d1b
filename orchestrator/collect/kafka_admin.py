"""Kafka admin samples (raw/kafka_admin/samples.jsonl, written by ``KafkaAdminSampler``) ▶ series, events and cluster facts.

One JSON object per sample::

    {"ts": 1795596805.2, "controller": 1, "quorum_leader": 2, "brokers": [1, 2, 3],
     "partitions": [{"topic": "orders", "partition": 0, "leader": 1, "replicas": [1, 2, 3], "isr": [1, 2]}],
     "groups": {"<workload>": {"group": "orchestrate-<workload>", "lag": {"orders/0": 12}}},
     "log_dirs": {"<broker id>": {"orders-0": 1048576}} | null,
     "log_dir_space": {"<broker id>": [{"dir": "/data/kafka", "total": 5e11, "usable": 2e11, "device": "64768" | null}]} | null,
     "log_dirs_source": "local" | "describeLogDirs" | "local+describeLogDirs" | "unavailable",
     "segments": {"<broker id>": {"count": 14, "deleted": 3}},
     "configs": {"topics": {"orders": {"retention.ms": "604800000", ...}}, "brokers": {"1": {"log.retention.check.interval.ms": "300000"}}},
     "errors": ["describe_topics: ..."]}

``controller`` is what Metadata names: under KRaft an arbitrary live broker, not the active quorum
controller, so it changes between samples of a steady cluster and gives no event.
``quorum_leader`` is the active controller (DescribeQuorum; absent when it could not be asked).
``segments`` (listed brokers only) counts the plan topics' segments and those deleted since the
monitor started; ``configs`` appears once, in the first sample that could read them.

Series: ``consume.committed_lag`` per workload (log end offset minus the group's committed offset,
summed over partitions; ``label`` holds the consumer group): it trails the consumers' own
``consume.position_lag`` by up to the auto-commit interval of consumed messages;
``broker.log_dir_bytes`` per broker (``host`` = broker id) and per broker and topic (``label`` = topic), ``broker.log_dir_free_bytes`` per broker and file system
(``device``: "dev:<number>" for a file system this machine listed, so brokers sharing one disk share
its key; the log dir's path for DescribeLogDirs), ``broker.segments`` and
``broker.segments_deleted`` per listed broker, ``broker.under_replicated`` and
``broker.offline_partitions`` for the cluster. Events: ``isr_change`` for a partition whose
in-sync replicas differ from the previous sample, ``controller_change`` when ``quorum_leader``
names another node than the last sample that named one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.jsonlines import MALFORMED, json_lines
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.summary import Event


@dataclass(frozen=True)
class TopicLayout:
    """A topic as the cluster holds it (the last sample that listed its partitions)."""

    partitions: int
    replication_factor: int  # the most replicas any of its partitions has
    replicas: dict[str, int]  # broker id -> replicas of the topic it holds


@dataclass
class ClusterFacts:
    """What the admin samples say about the cluster itself, for the analyses."""

    topic_configs: dict[str, dict[str, str]] = field(default_factory=dict)  # topic -> Kafka config name -> value
    broker_configs: dict[str, dict[str, str]] = field(default_factory=dict)  # broker id -> config name -> value
    topics: dict[str, TopicLayout] = field(default_factory=dict)
    log_dirs_sources: set[str] = field(default_factory=set)  # "local", "describeLogDirs"
    # "<topic>-<partition>" -> broker id -> bytes appended: the rises between samples added up, so
    # retention deleting a segment does not take from what was written
    appended: dict[str, dict[str, int]] = field(default_factory=dict)
    leaders: dict[str, str] = field(default_factory=dict)  # "<topic>-<partition>" -> leader broker id, last sample


@dataclass
class AdminResult:
    events: list[Event] = field(default_factory=list)
    brokers: set[str] = field(default_factory=set)
    cluster: ClusterFacts = field(default_factory=ClusterFacts)


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
    previous: dict = {}  # the last sample's "isr" map, and the last quorum leader named
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
        result.cluster.topics.update(_layouts(sample["partitions"]))
        result.cluster.leaders.update({f"{p['topic']}-{p['partition']}": str(p["leader"]) for p in sample["partitions"]
                                       if p.get("leader") is not None and int(p["leader"]) >= 0})
    if (leader := sample.get("quorum_leader")) is not None:
        if previous.get("leader", leader) != leader:
            result.events.append(Event(ts=ts, kind="controller_change", name=str(leader),
                                       detail=f"active controller {previous['leader']} -> {leader}"))
        previous["leader"] = leader
    result.brokers.update(str(b) for b in sample.get("brokers") or [])
    _groups(sample.get("groups") or {}, second, builder, result)
    _log_dirs(sample, second, builder, result.cluster)
    _appended(sample.get("log_dirs") or {}, previous.setdefault("sizes", {}), result.cluster.appended)
    if configs := sample.get("configs"):
        result.cluster.topic_configs.update({t: {k: str(v) for k, v in c.items()} for t, c in configs.get("topics", {}).items()})
        result.cluster.broker_configs.update({str(b): {k: str(v) for k, v in c.items()}
                                              for b, c in configs.get("brokers", {}).items()})


def _layouts(partitions: list[dict]) -> dict[str, TopicLayout]:
    by_topic: dict[str, list[list]] = {}
    for p in partitions:
        by_topic.setdefault(p["topic"], []).append(p.get("replicas") or [])
    out = {}
    for topic, replica_lists in by_topic.items():
        held: dict[str, int] = {}
        for broker in (b for replicas in replica_lists for b in replicas):
            held[str(broker)] = held.get(str(broker), 0) + 1
        out[topic] = TopicLayout(len(replica_lists), max(len(r) for r in replica_lists), held)
    return out


def _log_dirs(sample: dict, second: int, builder: TimelineBuilder, cluster: ClusterFacts) -> None:
    if sample.get("log_dirs") is not None:
        cluster.log_dirs_sources.update(s for s in str(sample.get("log_dirs_source", "")).split("+") if s != "unavailable")
    for broker, sizes in (sample.get("log_dirs") or {}).items():
        builder.set(SeriesKey("broker.log_dir_bytes", host=str(broker)), second, float(sum(int(v) for v in sizes.values())))
        by_topic: dict[str, float] = {}
        for partition, size in sizes.items():
            topic = partition.rpartition("-")[0]
            by_topic[topic] = by_topic.get(topic, 0.0) + int(size)
        for topic, size in by_topic.items():
            builder.set(SeriesKey("broker.log_dir_bytes", host=str(broker), label=topic), second, size)
    for broker, dirs in (sample.get("log_dir_space") or {}).items():
        for d in dirs:
            device = f"dev:{d['device']}" if d.get("device") is not None else str(d["dir"])
            builder.set(SeriesKey("broker.log_dir_free_bytes", host=str(broker), device=device), second, float(d["usable"]))
    for broker, counts in (sample.get("segments") or {}).items():
        builder.set(SeriesKey("broker.segments", host=str(broker)), second, float(counts["count"]))
        builder.set(SeriesKey("broker.segments_deleted", host=str(broker)), second, float(counts["deleted"]))


def _appended(log_dirs: dict, sizes: dict[tuple[str, str], int], appended: dict[str, dict[str, int]]) -> None:
    for broker, partitions in log_dirs.items():
        for partition, size in partitions.items():
            before = sizes.get((str(broker), partition))
            sizes[str(broker), partition] = int(size)
            grown = max(0, int(size) - before) if before is not None else 0
            by_broker = appended.setdefault(partition, {})
            by_broker[str(broker)] = by_broker.get(str(broker), 0) + grown


def _isr_events(ts: float, before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]]) -> list[Event]:
    return [Event(ts=ts, kind="isr_change", name=name, detail=f"isr {list(before[name])} -> {list(members)}")
            for name, members in sorted(after.items()) if name in before and before[name] != members]


def _groups(groups: dict, second: int, builder: TimelineBuilder, result: AdminResult) -> None:
    for workload, data in groups.items():
        lag = sum(int(v) for v in (data.get("lag") or {}).values())
        builder.set(SeriesKey("consume.committed_lag", workload=workload, label=str(data.get("group", ""))), second, float(lag))
