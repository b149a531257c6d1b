from __future__ import annotations

import pytest
import yaml

from orchestrator.analyze.retention import broker_projections, topic_projections
from orchestrator.analyze.window import whole_timeline
from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.plan.models import Plan

PLAN = """
metadata: {name: r}
target: {kind: existing, bootstrap_servers: ["127.0.0.1:9092"]}
topics:
  - {name: a, partitions: 6, replication_factor: 3, retention: 2d}
  - {name: b, partitions: 2, replication_factor: 1, retention_bytes: 1GB}
workloads:
  - {name: pa, kind: producer, topic: a}
  - {name: pb, kind: producer, topic: b}
phases: [{name: s, kind: steady, duration: 10s}]
"""


def _timeline() -> Timeline:
    tl = Timeline(start=0, length=10)
    tl.series[SeriesKey("produce.throughput_mb", workload="pa")] = [2.0] * 10
    tl.series[SeriesKey("produce.throughput_mb", workload="pb")] = [1.0] * 10
    return tl


def test_disk_per_broker_from_rate_retention_and_replication():
    a, _ = topic_projections(Plan.model_validate(yaml.safe_load(PLAN)), _timeline(), whole_timeline(_timeline()), brokers=6)
    assert a.write_bytes_per_s == 2e6
    assert a.per_broker_bytes == pytest.approx(2e6 * 2 * 86400 * 3 / 6)
    assert a.week_per_broker_bytes == pytest.approx(2e6 * 7 * 86400 * 3 / 6)


def test_retention_bytes_caps_the_projection_and_default_retention_is_a_week():
    _, b = topic_projections(Plan.model_validate(yaml.safe_load(PLAN)), _timeline(), whole_timeline(_timeline()), brokers=1)
    assert b.retention_s == 7 * 86400 and b.capped_by_retention_bytes
    assert b.per_broker_bytes == 2 * 1e9


def test_fewer_brokers_than_replicas_counts_one_replica_per_broker():
    a, _ = topic_projections(Plan.model_validate(yaml.safe_load(PLAN)), _timeline(), whole_timeline(_timeline()), brokers=1)
    assert a.brokers == 3 and a.per_broker_bytes == pytest.approx(2e6 * 2 * 86400)


def test_days_until_full_from_growth_and_free_space():
    tl = Timeline(start=0, length=100)
    tl.series[SeriesKey("broker.log_dir_bytes", host="1")] = [i * 1000.0 if i % 5 == 0 else None for i in range(100)]
    tl.series[SeriesKey("broker.log_dir_free_bytes", host="1")] = [86400 * 1000.0 * 3] * 100
    (b,) = broker_projections(tl)
    assert b.growth_bytes_per_s == pytest.approx(1000.0)
    assert b.days_until_full == pytest.approx(3.0)
    assert b.current_bytes == 95000.0


def test_unknown_free_space_leaves_days_unknown():
    tl = Timeline(start=0, length=3)
    tl.series[SeriesKey("broker.log_dir_bytes", host="1")] = [1.0, 2.0, 3.0]
    (b,) = broker_projections(tl)
    assert b.free_bytes is None and b.days_until_full is None


def test_local_free_space_stands_in_for_a_missing_free_series():
    tl = Timeline(start=0, length=3)
    tl.series[SeriesKey("broker.log_dir_bytes", host="1")] = [0.0, 1000.0, 2000.0]
    (b,) = broker_projections(tl, local_free_bytes=86400 * 1000.0)
    assert b.days_until_full == pytest.approx(1.0)
