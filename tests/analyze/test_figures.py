from __future__ import annotations

from orchestrator.analyze.figures import measured_figures
from orchestrator.analyze.slo import evaluate_one
from orchestrator.analyze.window import judged_window
from orchestrator.collect.timeline import SeriesKey
from orchestrator.plan.models import Slo
from orchestrator.summary import LatencyStats, PhaseSpan, Throughput, WorkloadSummary
from tests.fakes import T0, histogram_of, make_measured


def _consumer_run():
    """10 s warm-up at 500/s, 20 s kept up with 2,000/s; then a 10 s drain that read nothing."""
    rate = [500.0] * 10 + [2000.0] * 20 + [0.0] * 10
    m = make_measured(40, {"consume.rate@c": rate, "consume.throughput_mb@c": [r / 1000 for r in rate],
                           "consume.position_lag@c": [5.0] * 10 + [200.0] + [20.0] * 19 + [900.0] * 10})
    m.timeline.series[SeriesKey("consume.committed_lag", workload="c", label="g")] = [None] * 10 + [9000.0] * 30
    m.per_second_hist[("e2e_latency", "c")] = [histogram_of([500.0])] * 10 + [histogram_of([5.0])] * 30
    m.phases = [PhaseSpan(name="warm", kind="warmup", start=T0, end=T0 + 10),
                PhaseSpan(name="hold", kind="steady", start=T0 + 10, end=T0 + 30)]
    whole = WorkloadSummary(name="c", kind="consumer", engine="native", messages=45_000, duration_s=40.0,
                            throughput=Throughput(msgs_per_s=1125.0, window_s=40.0),
                            latency_ms={"e2e_latency": LatencyStats(count=40, max=500.0)}, lost=0)
    return m, whole


def test_consumer_rate_is_over_the_measured_window_not_first_to_last_record():
    m, whole = _consumer_run()
    w = measured_figures(whole, m, judged_window(m.phases, m.timeline))
    assert w.throughput == Throughput(msgs_per_s=2000.0, mb_per_s=2.0, window="measured", window_s=20.0)
    assert w.messages == 45_000 and w.duration_s == 40.0  # counts stay whole-run ones


def test_latency_and_both_lags_come_from_the_measured_window_each_under_its_own_name():
    m, whole = _consumer_run()
    w = measured_figures(whole, m, judged_window(m.phases, m.timeline))
    assert w.latency_ms["e2e_latency"].count == 20 and w.latency_ms["e2e_latency"].max < 6.0
    assert (w.max_position_lag, w.max_committed_lag) == (200, 9000)


def test_every_figure_names_its_window():
    m, whole = _consumer_run()
    w = measured_figures(whole, m, judged_window(m.phases, m.timeline))
    assert w.windows == {"messages": "whole run", "bytes": "whole run", "errors": "whole run", "duration_s": "whole run",
                         "lost": "whole run", "duplicated": "whole run", "out_of_order": "whole run",
                         "throughput": "measured", "latency_ms": "measured", "max_position_lag": "measured",
                         "max_committed_lag": "measured"}


def test_jmeter_rates_stay_whole_run_and_say_so():
    m, _ = _consumer_run()
    jm = WorkloadSummary(name="jm", kind="producer", engine="jmeter", messages=100, duration_s=10.0,
                         throughput=Throughput(msgs_per_s=10.0, window_s=10.0))
    w = measured_figures(jm, m, judged_window(m.phases, m.timeline))
    assert w.throughput.window == "whole run" and w.throughput.msgs_per_s == 10.0
    assert w.windows["throughput"] == "whole run"


def test_the_tables_rate_and_lag_are_what_the_slos_observe():
    m, whole = _consumer_run()
    w = measured_figures(whole, m, judged_window(m.phases, m.timeline))
    rate = evaluate_one(Slo(name="r", metric="consume.rate", op=">=", threshold=1, workload="c"), m)
    lag = evaluate_one(Slo(name="l", metric="consume.lag", threshold=1e9, workload="c"), m)
    assert (rate.observed, lag.observed) == (w.throughput.msgs_per_s, w.max_position_lag)
