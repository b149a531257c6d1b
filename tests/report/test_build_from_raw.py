"""``orchestrate report RUN_DIR`` on a run directory of real raw files (the collector's fixtures)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.summary import Summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "collect"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    shutil.copy(FIXTURES / "plan.resolved.yaml", run / "plan.resolved.yaml")
    (run / "raw" / "jmeter" / "jm").mkdir(parents=True)
    shutil.copytree(FIXTURES / "native", run / "raw" / "native")
    shutil.copy(FIXTURES / "kpi-taurus.jtl", run / "raw" / "jmeter" / "jm" / "kpi.jtl")
    shutil.copy(FIXTURES / "events.jsonl", run / "raw" / "events.jsonl")
    (run / "raw" / "iostat").mkdir()
    shutil.copy(FIXTURES / "iostat.json", run / "raw" / "iostat" / "broker1.json")
    return run


@pytest.fixture(scope="module")
def reported(run_dir) -> tuple[int, Path]:
    return main(["report", str(run_dir)]), run_dir


def test_report_command_rebuilds_every_output(reported):
    code, run_dir = reported
    # the fixture plan has no SLOs, but its events stop without run_end: a killed run never passes
    assert code == 3
    for path in ("summary.json", "junit.xml", "results/timeline.csv", "results/omb.json", "report/index.html"):
        assert (run_dir / path).is_file(), path


def test_summary_from_raw_matches_the_collector(reported):
    _, run_dir = reported
    summary = Summary.model_validate_json((run_dir / "summary.json").read_text())
    out = next(w for w in summary.workloads if w.name == "orders-out")
    assert (out.messages, out.errors) == (400, 2)
    assert summary.run.status == "killed" and summary.verdict == "fail"
    assert any("malformed" in w for w in summary.warnings)
    assert [p.name for p in summary.phases] == ["warm", "steady"]


def test_jmeter_labels_are_tabled(reported):
    _, run_dir = reported
    html = (run_dir / "report" / "index.html").read_text()
    assert "JMeter samplers" in html and "<th>Samples/s</th>" in html
    assert "Per sampler label over the whole run" in html


def test_missing_run_dir_exits_2_with_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such run directory" in err


def test_missing_raw_sources_still_give_a_report(tmp_path):
    shutil.copy(FIXTURES / "plan.resolved.yaml", tmp_path / "plan.resolved.yaml")
    assert main(["report", str(tmp_path)]) == 3  # without events it never began: incomplete
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["run"]["status"], summary["verdict"]) == ("incomplete", "fail")
    assert any("events.jsonl: missing" in w for w in summary["warnings"])
    assert "Throughput (no producer or consumer throughput was recorded)" in (tmp_path / "report" / "index.html").read_text()


def _events_run(tmp_path: Path, kinds: list[str]) -> Path:
    """A run that would pass (no SLOs, healthy native records) with only these run events."""
    shutil.copy(FIXTURES / "plan.resolved.yaml", tmp_path / "plan.resolved.yaml")
    shutil.copytree(FIXTURES / "native", tmp_path / "raw" / "native")
    events = [{"ts": 1795596800.0 + i, "kind": kind, "name": "quickstart", "detail": ""} for i, kind in enumerate(kinds)]
    (tmp_path / "raw" / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return tmp_path


def test_report_of_a_run_whose_apply_was_killed_says_so_and_exits_3(tmp_path, capsys):
    run = _events_run(tmp_path, ["run_start"])
    assert main(["report", str(run)]) == 3
    out = capsys.readouterr().out
    assert "verdict fail (run killed: no run_end event: apply died during the run" in out
    summary = Summary.model_validate_json((run / "summary.json").read_text())
    assert (summary.run.status, summary.verdict) == ("killed", "fail")
    assert 'name="run"' in (run / "junit.xml").read_text()
    assert '<div class="badge">FAIL · KILLED</div>' in (run / "report" / "index.html").read_text()


def test_a_stop_that_apply_did_not_finish_is_incomplete(tmp_path, capsys):
    run = _events_run(tmp_path, ["run_start", "abort"])
    assert main(["report", str(run)]) == 3
    assert "run incomplete: no run_end event: apply died while stopping after an abort" in capsys.readouterr().out


def test_the_same_run_with_its_run_end_passes(tmp_path):
    assert main(["report", str(_events_run(tmp_path, ["run_start", "run_end"]))]) == 0
