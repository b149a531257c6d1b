from __future__ import annotations

import pytest

from orchestrator.analyze.slo import evaluate_one, run_verdict
from orchestrator.analyze.window import Window
from orchestrator.plan.models import Slo
from orchestrator.summary import PhaseSpan, SloResult, WorkloadSummary
from tests.fakes import T0, histogram_of, make_measured


def _phases() -> list[PhaseSpan]:
    return [PhaseSpan(name="warm", kind="warmup", start=T0, end=T0 + 10),
            PhaseSpan(name="hold", kind="steady", start=T0 + 10, end=T0 + 60)]


def test_rate_is_messages_over_window_seconds_excluding_warmup():
    m = make_measured(60, {"produce.rate@w1": [5000.0] * 10 + [1000.0] * 50})
    m.phases = _phases()
    r = evaluate_one(Slo(name="s", metric="produce.rate", op=">=", threshold="1k/s"), m)
    assert (r.observed, r.threshold, r.unit, r.verdict) == (1000.0, 1000.0, "msg/s", "pass")


def test_rate_counts_missing_seconds_as_zero_throughput():
    m = make_measured(60, {"produce.rate@w1": [None] * 30 + [1000.0] * 30})
    r = evaluate_one(Slo(name="s", metric="produce.rate", op=">=", threshold=900), m)
    assert r.observed == 500.0 and r.verdict == "fail"


def test_combined_rate_sums_workloads():
    m = make_measured(10, {"produce.rate@a": [100.0] * 10, "produce.rate@b": [300.0] * 10})
    assert evaluate_one(Slo(name="s", metric="produce.rate", op=">", threshold=399), m).observed == 400.0


def test_workload_scope_selects_one_workload():
    m = make_measured(10, {"produce.rate@a": [100.0] * 10, "produce.rate@b": [300.0] * 10})
    r = evaluate_one(Slo(name="s", metric="produce.rate", op=">", threshold=200, workload="a"), m)
    assert (r.observed, r.verdict, r.workload) == (100.0, "fail", "a")


@pytest.mark.parametrize("op,threshold,verdict", [("<", 20, "fail"), ("<=", 20, "pass"), (">", 20, "fail"),
                                                  (">=", 20, "pass"), ("<", 21, "pass"), (">", 19, "pass")])
def test_each_comparison_operator(op, threshold, verdict):
    m = make_measured(10, {"disk.util": [20.0] * 10})
    assert evaluate_one(Slo(name="s", metric="disk.util", op=op, threshold=threshold), m).verdict == verdict


def test_latency_percentile_comes_from_merged_histogram_not_average_of_percentiles():
    # 9 quiet seconds (1 ms) and one slow second (500 ms), 100 samples each: 10 % of all samples are
    # slow, so the run's p99 is 500 ms; the mean of per-second p99s would be about 51 ms.
    m = make_measured(10, {"publish_latency.p99@w": [1.0] * 9 + [500.0]})
    m.per_second_hist[("publish_latency", "w")] = [histogram_of([1.0] * 100)] * 9 + [histogram_of([500.0] * 100)]
    r = evaluate_one(Slo(name="s", metric="publish_latency.p99", op="<", threshold="50ms"), m)
    assert r.observed == pytest.approx(500.0, rel=0.01)
    assert r.verdict == "fail" and r.breached_at == T0 + 9


def test_latency_threshold_units_convert_to_ms():
    m = make_measured(5, {})
    m.per_second_hist[("e2e_latency", "w")] = [histogram_of([1500.0])] * 5
    r = evaluate_one(Slo(name="s", metric="e2e_latency.max", op="<", threshold="2s"), m)
    assert (r.threshold, r.verdict) == (2000.0, "pass")


def test_latency_excludes_warmup_histograms():
    m = make_measured(60, {})
    m.phases = _phases()
    m.per_second_hist[("publish_latency", "w")] = [histogram_of([900.0])] * 10 + [histogram_of([2.0])] * 50
    r = evaluate_one(Slo(name="s", metric="publish_latency.max", threshold="10ms"), m)
    assert r.observed == pytest.approx(2.0, rel=0.01) and r.verdict == "pass"


def test_named_phase_window_includes_only_that_phase():
    m = make_measured(60, {"disk.util": [95.0] * 10 + [10.0] * 50})
    m.phases = _phases()
    r = evaluate_one(Slo(name="s", metric="disk.util", threshold="80%", phase="warm"), m)
    assert (r.observed, r.verdict, r.phase) == (95.0, "fail", "warm")


def test_unknown_phase_is_no_data():
    m = make_measured(10, {"disk.util": [1.0] * 10})
    m.phases = _phases()
    r = evaluate_one(Slo(name="s", metric="disk.util", threshold=80, phase="nope"), m)
    assert (r.verdict, r.window_s) == ("no_data", None)


def test_the_result_gives_its_window_in_seconds():
    m = make_measured(60, {"disk.util": [1.0] * 60})
    m.phases = _phases()
    assert evaluate_one(Slo(name="s", metric="disk.util", threshold=80), m).window_s == 50.0  # warm-up left out


def test_lost_comes_from_consumer_summaries():
    m = make_measured(10, {})
    m.workloads = [WorkloadSummary(name="c1", kind="consumer", engine="native", lost=3),
                   WorkloadSummary(name="c2", kind="consumer", engine="native", lost=2)]
    r = evaluate_one(Slo(name="s", metric="consume.lost", op="<=", threshold=0), m)
    assert (r.observed, r.verdict) == (5.0, "fail")


def test_missing_metric_is_no_data_and_fails_the_run():
    r = evaluate_one(Slo(name="s", metric="consume.position_lag", threshold=10), make_measured(10, {}))
    assert r.verdict == "no_data" and r.observed is None
    assert run_verdict([r]) == "fail"


def test_all_pass_gives_pass_verdict():
    ok = SloResult(name="a", metric="disk.util", op="<", threshold=1, unit="%", observed=0, verdict="pass")
    assert run_verdict([ok, ok]) == "pass" and run_verdict([]) == "pass"


def test_sustained_breach_needs_consecutive_seconds():
    values = [10.0] * 5 + [50.0] * 4 + [10.0] + [50.0] * 5 + [10.0] * 5
    m = make_measured(20, {"disk.await": values})
    r = evaluate_one(Slo(name="s", metric="disk.await", threshold="20ms", sustained="5s"), m)
    assert r.verdict == "fail" and r.breached_at == T0 + 10 and r.sustained_s == 5


def test_sustained_short_spikes_pass():
    values = [10.0] * 5 + [50.0] * 4 + [10.0] * 11
    m = make_measured(20, {"disk.await": values})
    r = evaluate_one(Slo(name="s", metric="disk.await", threshold="20ms", sustained="5s"), m)
    assert r.verdict == "pass" and r.breached_at is None and r.observed == 50.0


def test_sustained_gap_breaks_the_streak():
    values = [50.0] * 3 + [None] + [50.0] * 3
    m = make_measured(7, {"consume.position_lag": values})
    assert evaluate_one(Slo(name="s", metric="consume.position_lag", threshold=10, sustained="4s"), m).verdict == "pass"


def test_sustained_without_series_is_no_data():
    r = evaluate_one(Slo(name="s", metric="consume.position_lag", threshold=10, sustained="4s"), make_measured(7, {}))
    assert r.verdict == "no_data"


def test_error_rate_is_percent_of_attempts():
    m = make_measured(10, {"produce.rate@w": [99.0] * 10, "produce.errors@w": [1.0] * 10})
    r = evaluate_one(Slo(name="s", metric="produce.error_rate", threshold="0.5%"), m)
    assert r.observed == pytest.approx(1.0) and r.verdict == "fail"


def test_size_threshold_in_bytes():
    m = make_measured(3, {"broker.log_dir_bytes": [1.0, 2.0, 3.0 * 1024**3]})
    r = evaluate_one(Slo(name="s", metric="broker.log_dir_bytes", threshold="1GiB"), m)
    assert (r.threshold, r.verdict) == (1024.0**3, "fail")


def test_lag_growth_is_the_slope_of_the_position_lag_over_the_window(measured_factory):
    lag = [None if i == 3 else 1000.0 + 40.0 * i + (5 if i % 2 else -5) for i in range(30)]
    measured = measured_factory(30, {"consume.position_lag@c": lag})
    slo = Slo(name="bounded", metric="consume.lag_growth", threshold=50)
    result = evaluate_one(slo, measured, Window(((T0 + 5.0, T0 + 25.0),)))
    assert result.verdict == "pass" and result.unit == "msg/s" and abs(result.observed - 40.0) < 1.0
    steep = evaluate_one(slo.model_copy(update={"threshold": 30}), measured, Window(((T0 + 5.0, T0 + 25.0),)))
    assert steep.verdict == "fail"
    assert evaluate_one(slo, measured, Window(((T0 + 5.0, T0 + 7.0),))).verdict == "no_data"  # two points
