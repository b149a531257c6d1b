"""plans/capacity-at-latency-slo.yaml applied end to end against a real local broker, shortened
with --set: the search runs its probes and the summary answers the capacity question."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main

pytestmark = pytest.mark.integration

PLAN = Path(__file__).parents[2] / "plans" / "capacity-at-latency-slo.yaml"
SHORT = {"phases.warmup.duration": "10s", "phases.warmup.rate": "1k/s", "phases.search.start_rate": "1k/s",
         "phases.search.max_rate": "64k/s", "phases.search.growth": "4", "phases.search.resolution": "25%",
         "phases.search.settle": "2s", "phases.search.measure": "4s", "phases.search.confirm": "4s",
         "phases.search.max_probes": "12"}


def test_the_capacity_plan_answers_with_a_plausible_rate(tmp_path) -> None:
    run = tmp_path / "run"
    overrides = [arg for key, value in SHORT.items() for arg in ("--set", f"{key}={value}")]
    code = main(["apply", str(PLAN), "--run-dir", str(run), *overrides])
    summary = json.loads((run / "summary.json").read_text())
    answer = next(a for a in summary["answers"] if a["question"] == "capacity")
    probes = [s for s in summary["steps"] if s["phase"] == "search"]
    assert [row["probe"] for row in answer["rows"]] == [p["name"] for p in probes] and len(probes) >= 2
    assert probes[0]["rate"] == 1000 and all(1 <= p["rate"] <= 64_000 for p in probes)
    for row in answer["rows"]:
        assert row["outcome"] in ("held", "failed", "generator") and row["achieved_msg_s"] > 0
        assert row["publish_latency.p99 (ms)"] > 0 and row["produce.errors"] == 0
    if answer["verdict"] == "confirmed":
        # the answer held its confirmation and a rate at most 25 % above it failed, twice
        assert code == 0 and summary["verdict"] == "pass" and answer["unit"] == "msg/s"
        assert 1 <= answer["value"] <= 64_000 and answer["rows"][-1]["role"] == "confirm"
        failed = answer["inputs"]["failed_msg_s"]
        assert answer["value"] < failed <= answer["value"] * 1.25
        assert [r["outcome"] for r in answer["rows"] if r["intended_msg_s"] == failed] == ["failed", "failed"]
        assert answer["sentence"].startswith("Capacity at publish_latency.p99 <= 50 ms and produce.errors <= 0: ")
        assert f"{answer['value']:,.0f} msg/s" in answer["sentence"]
    else:
        # this machine could not push the cluster to its limit: the answer must say why, not guess
        assert answer["verdict"] in ("generator-limited", "above max_rate") and answer["value"] is None
        assert code == 1 and ("instances" in answer["sentence"] or "max_rate" in answer["sentence"])
