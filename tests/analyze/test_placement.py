import json

import yaml

from orchestrator.analyze.placement import placement, skew_notes
from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.kafka_admin import ClusterFacts, read_admin_samples
from orchestrator.collect.timeline import TimelineBuilder
from orchestrator.plan.models import Plan

T0 = 1_795_000_000.0
PLAN = Plan.model_validate(yaml.safe_load(
    "metadata: {name: p}\ntarget: {kind: existing, bootstrap_servers: [\"127.0.0.1:9092\"]}\n"
    "topics: [{name: orders, partitions: 3, replication_factor: 2}]\n"
    "workloads: [{name: w, kind: producer, topic: orders}]\nphases: [{name: s, kind: steady, duration: 10s}]\n"))


def _cluster(tmp_path, samples) -> ClusterFacts:
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    return read_admin_samples(path, TimelineBuilder(), Diagnostics(tmp_path), 5.0).cluster


def _sample(ts, sizes, leaders=(1, 2, 1)):
    partitions = [{"topic": "orders", "partition": i, "leader": leader, "replicas": [1, 2], "isr": [1, 2]}
                  for i, leader in enumerate(leaders)]
    return {"ts": ts, "brokers": [1, 2], "partitions": partitions, "log_dirs": sizes, "errors": []}


def test_a_hot_partition_and_a_busy_broker_are_measured_from_log_dir_growth(tmp_path):
    cluster = _cluster(tmp_path, [
        _sample(T0, {"1": {"orders-0": 1000, "orders-1": 0, "orders-2": 0, "audit-0": 5}, "2": {"orders-0": 1000, "orders-1": 0}}),
        # orders-0 grows 600 on its leader (broker 1); retention deletes 500 on broker 2's replica meanwhile
        _sample(T0 + 5, {"1": {"orders-0": 1600, "orders-1": 100, "orders-2": 100, "audit-0": 900},
                         "2": {"orders-0": 500, "orders-1": 100}}),
        _sample(T0 + 10, {"1": {"orders-0": 2000, "orders-1": 200, "orders-2": 200}, "2": {"orders-0": 900, "orders-1": 200}}),
    ])
    found = placement(PLAN, cluster)
    topic = found.topics[0]
    # retention deleting a segment does not take from what was written: rises are added up
    assert [(p.partition, p.bytes, p.leader) for p in topic.partitions] == [
        ("orders-0", 1000, "1"), ("orders-1", 200, "2"), ("orders-2", 200, "1")]
    assert topic.bytes == 1400 and round(topic.max_over_mean, 3) == round(1000 / (1400 / 3), 3)
    # the audit topic is not the plan's: left out of the brokers' bytes too
    assert [(b.broker, b.bytes, b.leaders, b.replicas) for b in found.brokers] == [("1", 1400, 2, 3), ("2", 600, 1, 3)]
    assert found.broker_max_over_mean == 1400 / 1000
    assert "every 5s" in found.source
    assert skew_notes(found) == ["Partition orders-0 took 71% of the bytes written to orders (2.1x the mean of its 3 partitions)."]


def test_no_growth_seen_gives_no_placement(tmp_path):
    assert placement(PLAN, _cluster(tmp_path, [_sample(T0, {"1": {"orders-0": 10}})])) is None
    assert placement(PLAN, ClusterFacts()) is None
