"""How the bytes spread over partitions and brokers, from log-directory growth in the admin samples.

A hot key sends one partition more than its share; a slow or over-assigned broker takes more than
its share. Both hide in cluster totals, so the spread is reported per topic (each partition's bytes
on its leader replica) and per broker (every replica it holds), with the hottest over the mean.
"""

from __future__ import annotations

from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.plan.models import Plan
from orchestrator.plan.units import format_duration
from orchestrator.summary import BrokerShare, PartitionShare, Placement, TopicPlacement

# a partition or broker this far above the mean is called out in the report
SKEWED = 1.5


def _ratio(values: list[int]) -> float | None:
    mean = sum(values) / len(values) if values else 0.0
    return max(values) / mean if mean > 0 else None


def placement(plan: Plan, cluster: ClusterFacts) -> Placement | None:
    """None when no admin sample listed log-dir sizes twice (nothing was seen growing)."""
    names = {t.name for t in plan.topics}
    appended = {name: by_broker for name, by_broker in cluster.appended.items() if name.rpartition("-")[0] in names}
    if not any(any(by_broker.values()) for by_broker in appended.values()):
        return None
    topics = []
    for topic in (t.name for t in plan.topics):
        # a partition's own bytes are those of its leader replica; the largest replica when unknown
        grown = {name: (by_broker.get(cluster.leaders[name], 0) if cluster.leaders.get(name) in by_broker
                        else max(by_broker.values(), default=0))
                 for name, by_broker in appended.items() if name.rpartition("-")[0] == topic}
        if not grown:
            continue
        total = sum(grown.values())
        shares = [PartitionShare(partition=name, bytes=size, share=size / total if total else 0.0,
                                 leader=cluster.leaders.get(name))
                  for name, size in sorted(grown.items(), key=lambda kv: (-kv[1], kv[0]))]
        topics.append(TopicPlacement(topic=topic, bytes=total, partitions=shares, max_over_mean=_ratio(list(grown.values()))))
    per_broker: dict[str, int] = {}
    for by_broker in appended.values():
        for broker, size in by_broker.items():
            per_broker[broker] = per_broker.get(broker, 0) + size
    leaders = [b for name, b in cluster.leaders.items() if name.rpartition("-")[0] in names]
    replicas: dict[str, int] = {}
    for layout in (cluster.topics.get(t.name) for t in plan.topics):
        for broker, held in (layout.replicas.items() if layout else ()):
            replicas[broker] = replicas.get(broker, 0) + held
    everything = sum(per_broker.values())
    brokers = [BrokerShare(broker=b, bytes=size, share=size / everything if everything else 0.0,
                           leaders=leaders.count(b), replicas=replicas.get(b, 0))
               for b, size in sorted(per_broker.items(), key=lambda kv: (-kv[1], kv[0]))]
    every = format_duration(plan.monitors.kafka_admin.interval)
    return Placement(source=f"log-directory growth between admin samples (every {every}), over the whole run",
                     topics=topics, brokers=brokers,
                     broker_max_over_mean=_ratio(list(per_broker.values())) if len(per_broker) > 1 else None)


def skew_notes(found: Placement) -> list[str]:
    """One sentence per partition or broker at least ``SKEWED`` times the mean."""
    notes = []
    for topic in found.topics:
        if topic.max_over_mean is not None and topic.max_over_mean >= SKEWED and len(topic.partitions) > 1:
            hot = topic.partitions[0]
            notes.append(f"Partition {hot.partition} took {hot.share:.0%} of the bytes written to {topic.topic} "
                         f"({topic.max_over_mean:.1f}x the mean of its {len(topic.partitions)} partitions).")
    if found.broker_max_over_mean is not None and found.broker_max_over_mean >= SKEWED:
        busy = found.brokers[0]
        notes.append(f"Broker {busy.broker} took {busy.share:.0%} of the bytes written "
                     f"({found.broker_max_over_mean:.1f}x the mean of {len(found.brokers)} brokers).")
    return notes
