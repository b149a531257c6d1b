from __future__ import annotations

import numpy as np
import pytest
import yaml

from orchestrator.analyze.retention import (Retention, fit_growth, format_elapsed, format_size, project_disk,
                                            resolve_retention)
from orchestrator.analyze.window import Window, whole_timeline
from orchestrator.collect.kafka_admin import ClusterFacts, TopicLayout
from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.plan.models import Plan

MIB = 1024**2
PLAN = """
metadata: {name: r}
target:
  kind: local
  properties: {log.retention.check.interval.ms: 15000, log.segment.delete.delay.ms: 5000}
topics:
  - {name: events, partitions: 6, retention: 5m, retention_bytes: 256MiB, configs: {segment.bytes: 33554432}}
workloads:
  - {name: writer, kind: producer, topic: events}
phases: [{name: s, kind: steady, duration: 20m}]
"""

REMOTE_PLAN = """
metadata: {name: r}
target: {kind: existing, bootstrap_servers: ["kafka-1:9092"]}
topics:
  - {name: events, partitions: 6, replication_factor: 3, RETENTION}
workloads:
  - {name: writer, kind: producer, topic: events}
phases: [{name: s, kind: steady, duration: 20m}]
"""


def _plan(text: str = PLAN) -> Plan:
    return Plan.model_validate(yaml.safe_load(text))


def _retention(**changes) -> Retention:
    base = dict(retention_s=300.0, retention_bytes=256 * MIB, segment_bytes=32 * MIB, segment_s=7 * 86400.0,
                delete_delay_s=5.0, check_interval_s=15.0, cleanup_policy="delete", partitions=6,
                replication_factor=1, source="plan")
    return Retention(**{**base, **changes})


def ramp_then_plateau(seconds: int = 1200, rate: float = 10e6, cap: float = 1.8e9, every: int = 5,
                      seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Log size sampled every ``every`` s: growing at ``rate`` until retention holds it near ``cap``,
    then a saw-tooth as whole segments go (32 MiB at a time, in one of six partitions)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, every, dtype=float)
    y = np.minimum(t * rate, cap)
    flat = t * rate > cap
    y[flat] -= (t[flat] * rate % (6 * 32 * MIB)) * 0.5 + rng.uniform(0, 32 * MIB, flat.sum())
    return t, y


def test_growth_is_fitted_only_where_the_log_grows_and_the_plateau_is_found():
    t, y = ramp_then_plateau()
    fit = fit_growth(list(t), list(y))
    assert fit.plateau
    assert fit.bytes_per_s == pytest.approx(10e6, rel=0.03)
    assert 160 <= fit.end <= 200  # the cap is reached at 180 s
    assert abs(fit.final_bytes_per_s) < 0.2 * fit.bytes_per_s


def test_a_straight_line_across_ramp_and_plateau_would_say_far_less():
    t, y = ramp_then_plateau()
    straight = float(np.polyfit(t, y, 1)[0])
    assert straight < 0.3 * fit_growth(list(t), list(y)).bytes_per_s


def test_steady_growth_has_no_plateau_and_its_exact_rate():
    t = np.arange(0, 600, 5, dtype=float)
    fit = fit_growth(list(t), list(3e6 * t + 1e6))
    assert not fit.plateau and fit.bytes_per_s == pytest.approx(3e6) and (fit.start, fit.end) == (0.0, 595.0)


def test_the_growth_window_starts_after_warm_up_when_enough_growth_follows():
    t = np.arange(0, 600, 5, dtype=float)
    y = np.where(t < 60, 1e6 * t, 60e6 + 3e6 * (t - 60))  # warm-up at a third of the rate
    fit = fit_growth(list(t), list(y), measured_from=60.0)
    assert fit.start == 60.0 and fit.bytes_per_s == pytest.approx(3e6)


def test_peak_per_replica_takes_the_tighter_of_time_and_bytes_with_segment_check_and_delete_delay():
    r = _retention()
    rate = 10e6 / 6
    by_bytes = 256 * MIB + 32 * MIB + rate * 15
    assert r.peak_per_replica(rate) == pytest.approx(by_bytes + 32 * MIB)  # one deleted segment waits out 5 s
    by_time = rate * (300 + 15) + 32 * MIB
    assert _retention(retention_bytes=None).peak_per_replica(rate) == pytest.approx(by_time + 32 * MIB)
    assert _retention(retention_s=None, retention_bytes=None).peak_per_replica(rate) is None
    assert _retention(cleanup_policy="compact").peak_per_replica(rate) is None


def test_a_slow_partition_rolls_segments_by_segment_ms():
    r = _retention(retention_bytes=None, segment_s=3600.0, delete_delay_s=0.0)
    assert r.segment(1000.0) == 3.6e6
    assert r.peak_per_replica(1000.0) == pytest.approx(1000.0 * 315 + 3.6e6)


def test_first_deletion_is_due_when_a_closed_segment_passes_a_limit():
    r = _retention()
    rate = 1e6
    assert r.first_deletion_s(rate) == pytest.approx((256 * MIB + 32 * MIB) / rate + 15)
    assert _retention(retention_bytes=None).first_deletion_s(rate) == pytest.approx(32 * MIB / rate + 300 + 15)


def test_retention_comes_from_the_cluster_when_recorded_else_from_the_plan():
    plan = _plan()
    planned = resolve_retention(plan.topics[0], plan, ClusterFacts())
    assert planned.source == "plan"
    assert (planned.retention_s, planned.retention_bytes, planned.segment_bytes) == (300.0, 256 * MIB, 32 * MIB)
    assert (planned.check_interval_s, planned.delete_delay_s) == (15.0, 5.0)
    cluster = ClusterFacts(topic_configs={"events": {"retention.ms": "600000", "retention.bytes": "-1",
                                                     "segment.bytes": "1048576", "segment.ms": "604800000",
                                                     "file.delete.delay.ms": "60000", "cleanup.policy": "delete"}},
                           broker_configs={"1": {"log.retention.check.interval.ms": "300000"}},
                           topics={"events": TopicLayout(12, 3, {"1": 36})})
    read = resolve_retention(plan.topics[0], plan, cluster)
    assert read.source == "cluster"
    assert (read.retention_s, read.retention_bytes, read.segment_bytes) == (600.0, None, 1048576)
    assert (read.check_interval_s, read.delete_delay_s, read.partitions, read.replication_factor) == (300.0, 60.0, 12, 3)


def test_plan_broker_retention_hours_apply_when_the_topic_sets_none():
    plan = _plan(PLAN.replace("retention: 5m, retention_bytes: 256MiB, ", "").replace(
        "log.segment.delete.delay.ms: 5000", "log.segment.delete.delay.ms: 5000, log.retention.hours: 48"))
    assert resolve_retention(plan.topics[0], plan, ClusterFacts()).retention_s == 48 * 3600


def _timeline(seconds: int, sizes: dict[str, np.ndarray], every: int = 5, payload_mb: float | None = 10.0,
              free: dict[tuple[str, str], float] | None = None, topic: str = "events") -> Timeline:
    tl = Timeline(start=1_700_000_000, length=seconds)
    for broker, values in sizes.items():
        column = [None] * seconds
        for i, v in zip(range(0, seconds, every), values):
            column[i] = float(v)
        tl.series[SeriesKey("broker.log_dir_bytes", host=broker)] = column
        tl.series[SeriesKey("broker.log_dir_bytes", host=broker, label=topic)] = list(column)
    if payload_mb is not None:
        tl.series[SeriesKey("produce.throughput_mb", workload="writer")] = [payload_mb] * seconds
    for (broker, device), value in (free or {}).items():
        tl.series[SeriesKey("broker.log_dir_free_bytes", host=broker, device=device)] = \
            [value if i % every == 0 else None for i in range(seconds)]
    return tl


def test_one_local_broker_that_plateaus_fits_and_its_steady_state_covers_the_plateau():
    t, y = ramp_then_plateau()
    tl = _timeline(1200, {"1": y}, free={("1", "dev:64768"): 80e9})
    disk = project_disk(_plan(), tl, whole_timeline(tl), ClusterFacts())
    (topic,) = disk.topics
    assert topic.cleanup == "keeps up" and topic.ratio == pytest.approx(1.0, rel=0.03)
    (broker,) = disk.brokers
    assert broker.fits and broker.free_bytes == 80e9 and broker.shares_with == ()
    assert broker.needs_bytes >= topic.plateau_bytes
    assert broker.needs_bytes == pytest.approx(6 * topic.peak_per_replica_bytes)


def test_lz4_compressed_writes_take_the_log_dir_rate_not_the_payload_rate():
    t = np.arange(0, 600, 5, dtype=float)
    tl = _timeline(600, {"1": 2.6e6 * t}, payload_mb=18.3, free={("1", "dev:1"): 80e9})
    (topic,) = project_disk(_plan(), tl, whole_timeline(tl), ClusterFacts()).topics
    assert topic.disk_bytes_per_s == pytest.approx(2.6e6)
    assert topic.payload_bytes_per_s == pytest.approx(18.3e6)
    assert topic.ratio == pytest.approx(2.6 / 18.3)


def test_remote_brokers_report_their_own_free_space_and_a_full_one_does_not_fit():
    t = np.arange(0, 600, 5, dtype=float)
    plan = _plan(REMOTE_PLAN.replace("RETENTION", "retention: 7d"))
    cluster = ClusterFacts(topics={"events": TopicLayout(6, 3, {"1": 6, "2": 6, "3": 6})})
    sizes = {b: 16e6 * t for b in ("1", "2", "3")}  # 48 MB/s on disk over three brokers
    free = {("1", "/data"): 20e12, ("2", "/data"): 2.1e12, ("3", "/data"): 20e12}
    tl = _timeline(600, sizes, payload_mb=16.0, free=free)
    disk = project_disk(plan, tl, whole_timeline(tl), cluster)
    two = next(b for b in disk.brokers if b.broker == "2")
    assert two.needs_bytes == pytest.approx(16e6 * 7 * 86400, rel=0.01)
    assert two.fits is False and two.fills_in_s == pytest.approx(2.1e12 / 16e6, rel=0.01)
    assert [b.fits for b in disk.brokers] == [True, False, True] and disk.fits is False


def test_brokers_on_one_disk_share_its_free_space():
    t, y = ramp_then_plateau(rate=3e6, cap=0.6e9)
    cluster = ClusterFacts(topics={"events": TopicLayout(6, 3, {"1": 6, "2": 6, "3": 6})})
    free = {(b, "dev:64768"): 1.5e9 for b in ("1", "2", "3")}
    plan = _plan(REMOTE_PLAN.replace("RETENTION", "retention: 5m, retention_bytes: 32MiB, configs: {segment.bytes: 8388608}"))
    tl = _timeline(1200, {b: y for b in ("1", "2", "3")}, payload_mb=3.0, free=free)
    disk = project_disk(plan, tl, whole_timeline(tl), cluster)
    assert all(b.free_bytes == 1.5e9 for b in disk.brokers)  # counted once, not three times
    assert disk.brokers[0].shares_with == ("2", "3")
    alone = [b.needs_bytes - b.current_bytes for b in disk.brokers]
    assert all(more < 1.5e9 for more in alone) and sum(alone) > 1.5e9  # each would fit its own disk; together not
    assert [b.fits for b in disk.brokers] == [False] * 3
    assert disk.brokers[0].fills_in_s == pytest.approx(1.5e9 / 9e6, rel=0.01)


def test_a_log_still_growing_long_after_retention_was_due_did_not_keep_up():
    t = np.arange(0, 1200, 5, dtype=float)
    tl = _timeline(1200, {"1": 10e6 * t}, free={("1", "dev:1"): 80e9})
    (topic,) = project_disk(_plan(), tl, whole_timeline(tl), ClusterFacts()).topics
    assert topic.cleanup == "did not keep up"


def test_a_run_shorter_than_retention_does_not_show_clean_up():
    t = np.arange(0, 300, 5, dtype=float)
    plan = _plan(PLAN.replace("retention: 5m, retention_bytes: 256MiB", "retention: 7d"))
    tl = _timeline(300, {"1": 1e6 * t}, free={("1", "dev:1"): 80e9})
    (topic,) = project_disk(plan, tl, whole_timeline(tl), ClusterFacts()).topics
    assert topic.cleanup == "not shown" and topic.first_deletion_at > tl.start + 7 * 86400


def test_sizes_after_the_producers_stopped_are_left_out_of_the_fit():
    t = np.arange(0, 600, 5, dtype=float)
    tl = _timeline(600, {"1": 1e6 * np.minimum(t, 400)}, free={("1", "dev:1"): 80e9})
    tl.series[SeriesKey("produce.throughput_mb", workload="writer")] = [1.0 if i < 400 else None for i in range(600)]
    (topic,) = project_disk(_plan(), tl, Window(((tl.start, tl.start + 600.0),)), ClusterFacts()).topics
    assert not topic.fit.plateau and topic.fit.last <= tl.start + 400


def test_sizes_read_well():
    assert [format_size(v) for v in (0, 999, 1234, 356e6, 1.1e9, 9.7e12)] == ["0 B", "999 B", "1.23 kB", "356 MB", "1.1 GB", "9.7 TB"]
    assert format_size(256 * MIB, binary=True) == "256 MiB"
    assert [format_elapsed(s) for s in (45, 370, 3700, 12 * 3600, 1.5 * 86400 * 2)] == ["45s", "6m10s", "1h1m40s", "12 hours", "3 days"]
