from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from orchestrator.errors import InputError
from orchestrator.report.build import build, run_info, summarize, write_outputs
from orchestrator.rundir import RunDir
from orchestrator.summary import Event, Summary
from tests.fakes import PLAN_YAML, T0, make_measured, rich_measured


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from orchestrator.plan.models import Plan

    run = RunDir.create("demo", explicit=tmp_path_factory.mktemp("run"))
    run.resolved_plan.write_text(PLAN_YAML)
    summary = write_outputs(run, Plan.model_validate(yaml.safe_load(PLAN_YAML)), rich_measured(180))
    return run, summary


def test_every_output_is_written(built):
    run, _ = built
    for path in (run.summary, run.junit, run.timeline_csv, run.results / "omb.json", run.report_html):
        assert path.is_file() and path.stat().st_size > 0, path


def test_summary_json_round_trips_and_carries_verdicts(built):
    run, summary = built
    loaded = Summary.model_validate_json(run.summary.read_text())
    assert loaded == summary
    assert [r.name for r in loaded.slos] == ["p99-under-20ms", "rate-5k", "no-loss", "disk-busy"]
    assert loaded.plan["labels"] == {"team": "streaming", "ticket": "KAFKA-42"}


def test_run_verdict_fails_when_an_slo_fails(built):
    _, summary = built
    assert summary.verdict == "fail" and summary.run.status == "completed"


def test_missing_run_dir_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no such run directory"):
        build(tmp_path / "nope")


def test_run_dir_without_resolved_plan_is_input_error(tmp_path):
    with pytest.raises(InputError, match="plan.resolved.yaml: missing; .* is not a run directory"):
        build(tmp_path)


def test_corrupt_resolved_plan_names_the_file(tmp_path):
    (tmp_path / "plan.resolved.yaml").write_text("metadata: [unclosed\n")
    with pytest.raises(InputError, match=r"plan.resolved.yaml: not valid YAML"):
        build(tmp_path)


def test_invalid_resolved_plan_names_the_field(tmp_path):
    (tmp_path / "plan.resolved.yaml").write_text(yaml.safe_dump({"metadata": {"name": "x"}}))
    with pytest.raises(InputError, match="not a valid plan: workloads"):
        build(tmp_path)


@pytest.mark.parametrize("kind,status", [("abort", "aborted"), ("interrupt", "interrupted")])
def test_status_comes_from_events(kind, status):
    m = make_measured(10, {})
    events = [Event(ts=T0, kind="run_start"), Event(ts=T0 + 5, kind=kind, name="p99", detail="p99 breached"),
              Event(ts=T0 + 10, kind="run_end")]
    info = run_info(RunDir(Path("x")), events, m)
    assert (info.status, info.reason, info.started, info.ended) == (status, "p99 breached", T0, T0 + 10)


def test_abort_event_marks_the_slo_that_stopped_the_run(plan):
    m = rich_measured(120)
    m.events.append(Event(ts=T0 + 100, kind="abort", name="p99-under-20ms", detail="breached"))
    summary = summarize(RunDir(Path("demo")), plan, m)
    assert [r.aborted_run for r in summary.slos] == [True, False, False, False]
    assert summary.run.status == "aborted"


def test_run_without_slos_passes_and_writes_an_empty_junit_suite(tmp_path):
    from orchestrator.plan.models import Plan

    data = yaml.safe_load(PLAN_YAML)
    data.pop("slos")
    run = RunDir.create("demo", explicit=tmp_path)
    summary = write_outputs(run, Plan.model_validate(data), make_measured(30, {"produce.rate@producer": [1.0] * 30}))
    suite = ET.parse(run.junit).getroot().find("testsuite")
    assert summary.verdict == "pass" and suite.get("tests") == "0" and suite.findall("testcase") == []


def test_empty_measurements_still_give_a_report_with_no_data_notes(tmp_path, plan):
    run = RunDir.create("demo", explicit=tmp_path)
    m = make_measured(0, {})
    m.warnings = ["raw/runner: missing: no producer or consumer results"]
    summary = write_outputs(run, plan, m)
    html = run.report_html.read_text()
    assert summary.verdict == "fail" and {r.verdict for r in summary.slos} == {"no_data"}
    assert "Throughput (no producer or consumer throughput was recorded)" in html
    assert "raw/runner: missing" in html
    assert json.loads((run.results / "omb.json").read_text())["publishRate"] == []


@pytest.mark.parametrize("events, status", [
    ([Event(ts=T0, kind="run_start")], "killed"),
    ([Event(ts=T0, kind="run_start"), Event(ts=T0 + 9, kind="interrupt", name="SIGINT")], "incomplete"),
    ([Event(ts=T0, kind="run_start"), Event(ts=T0 + 9, kind="abort", name="p99")], "incomplete"),
    ([], "incomplete"),
    ([Event(ts=T0 + 30, kind="run_end"), Event(ts=T0 + 30, kind="interrupt", name="SIGINT")], "incomplete"),
])
def test_a_run_apply_did_not_finish_never_passes(tmp_path, events, status):
    from orchestrator.plan.models import Plan

    data = yaml.safe_load(PLAN_YAML)
    data.pop("slos")
    run = RunDir.create("demo", explicit=tmp_path)
    measured = make_measured(30, {"produce.rate@producer": [1.0] * 30})
    measured.events = events
    summary = write_outputs(run, Plan.model_validate(data), measured)
    assert (summary.run.status, summary.verdict) == (status, "fail")
    case = ET.parse(run.junit).getroot().find("testsuite/testcase")
    assert case.get("name") == "run" and case.find("failure").get("message").startswith(f"run {status}: no run_")
    assert f"status <strong>{status}</strong>" in run.report_html.read_text()
