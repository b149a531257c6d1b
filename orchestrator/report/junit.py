"""junit.xml: one testcase per SLO, so CI systems show SLO verdicts as tests. A failed SLO is a
<failure>, an SLO that had no data an <error> (it could not be checked), each with a message that
gives the observed value against the threshold. A testcase's time is the SLO's window in seconds.
A killed or incomplete run adds a failed ``run`` testcase, so CI never shows it green. A plan
without SLOs still gets a valid file with an empty suite."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from orchestrator.analyze.slo import explain
from orchestrator.report.templates import render
from orchestrator.summary import Summary

_OUTCOME = {"pass": None, "fail": "failure", "no_data": "error"}


def junit_xml(summary: Summary) -> str:
    cases = [{"name": r.name, "verdict": r.verdict, "detail": explain(r), "time": r.window_s or 0.0,
              "outcome": _OUTCOME[r.verdict]} for r in summary.slos]
    if summary.run.unfinished:
        why = f"run {summary.run.status}: {summary.run.reason}"
        cases.append({"name": "run", "verdict": summary.run.status, "detail": why, "time": summary.run.duration_s,
                      "outcome": "failure"})
    started = summary.run.started
    return render("junit.xml.j2", suite=str(summary.plan.get("name", summary.run.id)), cases=cases,
                  failures=sum(1 for c in cases if c["outcome"] == "failure"),
                  errors=sum(1 for c in cases if c["outcome"] == "error"), duration=summary.run.duration_s,
                  timestamp=datetime.fromtimestamp(started, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") if started else "",
                  run_id=summary.run.id, status=summary.run.status)


def write_junit(summary: Summary, path: Path) -> None:
    path.write_text(junit_xml(summary), encoding="utf-8")
