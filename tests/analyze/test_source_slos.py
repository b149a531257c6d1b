"""SLOs on the brokers' JMX and the hosts' metrics: combined over brokers and reduced over the
window as the catalogue says (orchestrator.plan.sources)."""

from __future__ import annotations

import pytest

from orchestrator.analyze.slo import evaluate_one
from orchestrator.analyze.sources import source_stats
from orchestrator.analyze.window import Window
from orchestrator.collect.timeline import SeriesKey
from orchestrator.plan.models import Slo
from tests.fakes import T0, make_measured


def _brokers(metric: str, **per_broker: list[float | None]):
    m = make_measured(len(next(iter(per_broker.values()))), {})
    for broker, values in per_broker.items():
        m.timeline.series[SeriesKey(metric, host=broker.removeprefix("b"))] = values
    return m


def test_an_idle_share_is_judged_on_the_least_idle_broker_at_its_lowest():
    m = _brokers("broker.request_handler_idle", b0=[90.0, 80.0, 85.0, None], b1=[70.0, 95.0, 60.0, 90.0])
    holds = evaluate_one(Slo(name="idle", metric="broker.request_handler_idle", op=">=", threshold="50%"), m)
    assert (holds.verdict, holds.observed) == ("pass", 60.0)
    broken = evaluate_one(Slo(name="idle", metric="broker.request_handler_idle", op=">=", threshold="65%"), m)
    assert (broken.verdict, broken.observed, broken.breached_at) == ("fail", 60.0, T0 + 2)


def test_a_sampled_rate_sums_brokers_each_second_and_takes_the_mean_over_the_window():
    m = _brokers("broker.bytes_in_mb", b0=[1.0, 2.0, 3.0], b1=[1.0, 2.0, None])
    r = evaluate_one(Slo(name="in", metric="broker.bytes_in_mb", op=">=", threshold="3MB/s"), m)
    assert r.observed == pytest.approx((2.0 + 4.0 + 3.0) / 3)


def test_events_per_second_sum_to_the_count_over_the_window():
    m = _brokers("broker.isr_shrinks", b0=[0.0, 0.2, 0.2, 0.2, 0.2, 0.2], b1=[0.0] * 6)
    r = evaluate_one(Slo(name="shrinks", metric="broker.isr_shrinks", threshold=0), m)
    assert (r.verdict, r.observed) == ("fail", pytest.approx(1.0))


def test_summary_stats_per_broker_over_the_window_only():
    m = _brokers("broker.cpu", b0=[99.0, 10.0, 30.0, 20.0], b1=[None] * 4)
    m.timeline.series[SeriesKey("produce.rate", workload="w")] = [1.0] * 4  # not a catalogue metric
    [stats] = source_stats(m.timeline, Window(((T0 + 1, T0 + 4),)))
    assert (stats.metric, stats.source, stats.unit, stats.seconds) == ("broker.cpu", "0", "%", 3)
    assert (stats.min, stats.mean, stats.max) == (10.0, 20.0, 30.0)
