"""A total stall is a breach, not a gap: the broker-failure run whose sustained e2e SLO passed at 15,729 ms."""

from __future__ import annotations

import pytest

from orchestrator.analyze.slo import evaluate_one, explain
from orchestrator.analyze.stall import feeds, waited_ms
from orchestrator.collect.timeline import SeriesKey
from orchestrator.plan.models import Slo
from tests.fakes import T0, histogram_of, make_measured

LENGTH = 120
STALL = range(40, 56)  # the consumer receives nothing for 16 s
NO_ACKS = range(40, 50)  # the producer gets no acknowledgement for 10 s
CATCH_UP = range(56, 76)  # then 20 s of messages that waited: acked p99 15,729 ms
SOURCES = {"payments-out": ["payments-in"]}


def _broker_failure(stalled: bool = True):
    """5k msg/s, e2e p99 5 ms, broken (when ``stalled``) by the stall and catch-up above."""
    def each(healthy, stall=lambda i: None, catch_up=None):
        def at(i):
            if stalled and i in STALL:
                return stall(i)
            return catch_up if stalled and catch_up is not None and i in CATCH_UP else healthy
        return [at(i) for i in range(LENGTH)]

    acking = lambda i: 0.0 if i in NO_ACKS else 5000.0  # noqa: E731
    m = make_measured(LENGTH, {
        "produce.sent@payments-in": [5000.0] * LENGTH,
        "produce.rate@payments-in": each(5000.0, acking),
        "produce.in_flight@payments-in": each(5.0, lambda i: 5000.0 * (i - 39) if i in NO_ACKS else 5.0),
        "produce.oldest_in_flight@payments-in": each(4.0, lambda i: 1000.0 * (i - 40) if i in NO_ACKS else 4.0),
        "publish_latency.p99@payments-in": each(4.0, lambda i: None if i in NO_ACKS else 9000.0, catch_up=9000.0),
        "consume.rate@payments-out": each(5000.0, lambda i: 0.0, catch_up=10_000.0),
        "e2e_latency.p99@payments-out": each(5.0, catch_up=15_729.0),
    })
    m.per_second_hist[("e2e_latency", "payments-out")] = [
        histogram_of([] if p99 is None else [p99] * 100) for p99 in m.timeline.series[SeriesKey("e2e_latency.p99", workload="payments-out")]]
    return m


RECOVERS = Slo(name="latency-recovers", metric="e2e_latency.p99", op="<=", threshold="2s", sustained="30s")


def test_a_stall_and_its_catch_up_breach_a_sustained_e2e_slo():
    r = evaluate_one(RECOVERS, _broker_failure(), sources=SOURCES)
    # the stall's seconds count at the wait of the oldest unconsumed message: 3 s from its 4th second
    assert r.verdict == "fail" and r.breached_at == T0 + 43
    assert r.stalled_s == 13
    assert r.observed == pytest.approx(15_729.0, rel=0.01)
    assert "13 s in which nothing completed" in explain(r)


def test_without_the_producers_of_its_topic_the_stall_is_a_gap():
    # what the run reported before: the gap broke the streak and 20 s of catch-up were not 30
    assert evaluate_one(RECOVERS, _broker_failure()).verdict == "pass"


def test_a_healthy_run_passes():
    r = evaluate_one(RECOVERS, _broker_failure(stalled=False), sources=SOURCES)
    assert (r.verdict, r.breached_at, r.stalled_s) == ("pass", None, 0)


def test_publish_latency_counts_the_wait_of_messages_in_flight():
    slo = Slo(name="acks", metric="publish_latency.p99", op="<=", threshold="2s", sustained="10s")
    r = evaluate_one(slo, _broker_failure())
    # no acks for 10 s: waits 0 … 9 s, above 2 s from second 43; then the acks of messages that waited
    assert r.verdict == "fail" and r.breached_at == T0 + 43 and r.stalled_s == 7
    assert evaluate_one(slo, _broker_failure(stalled=False)).verdict == "pass"


def test_combined_scope_takes_the_stalled_workload():
    m = _broker_failure()
    m.timeline.series.update(make_measured(LENGTH, {"publish_latency.p99@other": [1.0] * LENGTH}).timeline.series)
    slo = Slo(name="acks", metric="publish_latency.max", op="<=", threshold="2s", sustained="5s")
    assert evaluate_one(slo, m).breached_at == T0 + 43


def test_a_consumer_that_never_received_anything_has_no_stall():
    m = make_measured(5, {"produce.sent@p": [10.0] * 5, "consume.rate@c": [0.0] * 5})
    assert waited_ms(m.timeline, "e2e_latency", "c", {"c": ["p"]}) == [None] * 5


def test_a_silent_consumer_waits_from_the_first_send_after_its_last_receipt():
    # received in second 1; nothing sent in 2; sends from 3 on; the consumer's records end after 4
    m = make_measured(7, {"produce.sent@p": [10.0, 10.0, 0.0, 10.0, 10.0, 10.0, 10.0],
                          "consume.rate@c": [10.0, 10.0, 0.0, 0.0, 0.0, None, None]})
    assert waited_ms(m.timeline, "e2e_latency", "c", {"c": ["p"]}) == [None, None, None, 0.0, 1000.0, 2000.0, 3000.0]


def test_an_idle_producer_is_no_stall():
    m = make_measured(4, {"produce.sent@p": [10.0, 0.0, 0.0, 0.0], "consume.rate@c": [10.0, 0.0, 0.0, 0.0],
                          "produce.in_flight@p": [0.0] * 4, "produce.oldest_in_flight@p": [0.0] * 4})
    assert waited_ms(m.timeline, "e2e_latency", "c", {"c": ["p"]}) == [None] * 4
    assert waited_ms(m.timeline, "publish_latency", "p", {}) == [None] * 4


def test_feeds_pair_consumers_with_the_native_producers_of_their_topic(plan):
    assert feeds(plan) == {"consumer": ["producer"]}


def test_a_rate_second_without_data_breaks_no_streak():
    m = make_measured(20, {"consume.rate@c": [1000.0] * 5 + [None] * 10 + [1000.0] * 5})
    r = evaluate_one(Slo(name="s", metric="consume.rate", op=">=", threshold=900, sustained="10s"), m)
    assert r.verdict == "fail" and r.breached_at == T0 + 5


def test_a_rate_slo_over_a_window_without_data_fails_the_run():
    m = make_measured(20, {"consume.rate@c": [None] * 20})
    for sustained in (None, "5s"):
        r = evaluate_one(Slo(name="s", metric="consume.rate", op=">=", threshold=900, sustained=sustained), m)
        assert r.verdict == "no_data"
