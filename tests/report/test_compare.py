from __future__ import annotations

import json

import pytest

from orchestrator.errors import UsageError
from orchestrator.report.compare import compare, parse_fail_if, workload_metrics
from orchestrator.summary import Answer, LatencyStats, RunInfo, SloResult, Summary, Throughput, WorkloadSummary


def _run(tmp_path, name: str, p99: float, rate: float, slo_observed: float, capacity: float | None = None):
    run = tmp_path / name
    run.mkdir()
    summary = Summary(
        plan={"name": "p"}, run=RunInfo(id=name), verdict="pass",
        workloads=[WorkloadSummary(name="prod", kind="producer", engine="native", messages=1000,
                                   throughput=Throughput(msgs_per_s=rate, mb_per_s=rate / 1000),
                                   latency_ms={"publish_latency": LatencyStats(count=10, p50=1.0, p99=p99, max=50.0)})],
        slos=[SloResult(name="lat", metric="publish_latency.p99", op="<", threshold=20, unit="ms",
                        observed=slo_observed, verdict="pass")],
        answers=[Answer(question="capacity", sentence="s", value=capacity, unit="msg/s")] if capacity else [])
    (run / "summary.json").write_text(summary.model_dump_json())
    (run / "results").mkdir()
    (run / "results" / "timeline.csv").write_text(
        "ts,produce.rate[workload=prod],publish_latency.p99[workload=prod]\n"
        + "".join(f"{100 + i},{rate},{p99}\n" for i in range(20)))
    return run


@pytest.fixture
def runs(tmp_path):
    return [_run(tmp_path, "base", p99=10.0, rate=1000.0, slo_observed=10.0),
            _run(tmp_path, "cand", p99=12.0, rate=940.0, slo_observed=12.0)]


def test_deltas_absolute_and_percent(runs, tmp_path):
    result = compare(runs, out=tmp_path / "cmp", fail_if=[])
    row = next(r for r in result.rows if r.metric == "publish_latency.p99")
    assert row.values == [10.0, 12.0] and row.deltas() == [(2.0, 20.0)]
    slo = next(r for r in result.rows if r.scope == "SLO")
    assert (slo.metric, slo.values) == ("lat", [10.0, 12.0])
    assert result.regressions == []


def test_relative_regression_is_reported(runs, tmp_path):
    result = compare(runs, out=tmp_path / "cmp", fail_if=["publish_latency.p99 > +10%", "produce.rate < -5%"])
    assert len(result.regressions) == 2
    assert "cand: prod: publish_latency.p99 10 ▶ 12 (+20.0%)" in result.regressions[0]
    assert "2 regression(s)" in result.headline()


def test_within_tolerance_is_no_regression(runs, tmp_path):
    result = compare(runs, out=tmp_path / "cmp", fail_if=["publish_latency.p99 > +25%", "produce.rate < -10%"])
    assert result.regressions == []


def test_absolute_delta_in_the_metrics_unit(runs, tmp_path):
    assert compare(runs, out=tmp_path / "a", fail_if=["publish_latency.p99 > +1ms"]).regressions
    assert not compare(runs, out=tmp_path / "b", fail_if=["publish_latency.p99 > +0.005s"]).regressions


def test_alias_produce_latency(runs, tmp_path):
    assert compare(runs, out=tmp_path / "cmp", fail_if=["produce.latency.p99 > +10%"]).regressions


def test_writes_html_and_json(runs, tmp_path):
    compare(runs, out=tmp_path / "cmp", fail_if=["publish_latency.p99 > +10%"])
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["runs"] == ["base", "cand"] and len(data["regressions"]) == 1
    html = (tmp_path / "cmp" / "index.html").read_text()
    assert "REGRESSED" in html and html.count("data:image/svg+xml") == 2


@pytest.mark.parametrize("text", ["p99 > 10%", "publish_latency.p99 >> +10%", "publish_latency.p99 > +10 parsecs",
                                  "", "produce.rate < -5msg/s/s", "nosuch.metric > +1%"])
def test_malformed_fail_if_is_a_usage_error_naming_it(text):
    with pytest.raises(UsageError, match="--fail-if"):
        parse_fail_if(text)


def test_needs_two_runs(runs, tmp_path):
    with pytest.raises(UsageError, match="at least two"):
        compare(runs[:1], out=tmp_path / "cmp", fail_if=[])


def test_default_output_goes_beside_the_runs_not_into_the_working_directory(runs, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = compare(runs, out=None, fail_if=[])
    assert result.out is not None and result.out.parent == runs[-1].resolve().parent
    assert result.out.name.startswith("compare-") and (result.out / "compare.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_gates_on_an_answers_headline_number(tmp_path):
    base = _run(tmp_path, "base", p99=10.0, rate=1000.0, slo_observed=10.0, capacity=40_000)
    cand = _run(tmp_path, "cand", p99=10.0, rate=1000.0, slo_observed=10.0, capacity=34_000)
    result = compare([base, cand], out=tmp_path / "a", fail_if=["capacity.value < -10%"])
    assert result.regressions == ["cand: answer: capacity.value 40000 ▶ 34000 (-15.0%) matches 'capacity.value < -10%'"]
    assert not compare([base, cand], out=tmp_path / "b", fail_if=["capacity.value < -20%"]).regressions
    assert compare([base, cand], out=tmp_path / "c", fail_if=["capacity.value < -5000"]).regressions


def test_an_answers_delta_cannot_carry_a_unit():
    with pytest.raises(UsageError, match="plain number in the answer's own unit"):
        parse_fail_if("capacity.value < -5ms")


def test_both_lags_are_compared_under_their_own_names_and_consume_lag_means_position_lag():
    w = WorkloadSummary(name="c", kind="consumer", engine="native", max_position_lag=200, max_committed_lag=9000)
    metrics = workload_metrics(w)
    assert (metrics["consume.position_lag"], metrics["consume.committed_lag"]) == (200, 9000)
    assert parse_fail_if("consume.lag > +10%").metric == "consume.position_lag"


def test_a_summary_of_an_older_schema_is_rebuilt_from_raw(runs, tmp_path, monkeypatch):
    old = json.loads((runs[0] / "summary.json").read_text())
    (runs[0] / "summary.json").write_text(json.dumps({**old, "schema_version": 1, "unknown_old_field": 1}))
    (runs[0] / "raw").mkdir()
    rebuilt = []
    monkeypatch.setattr("orchestrator.report.compare.build",
                        lambda run: rebuilt.append(run) or Summary.model_validate(old))
    compare(runs, out=tmp_path / "cmp", fail_if=[])
    assert rebuilt == [runs[0]]
