"""No false losses: example plans applied as a user would, on a healthy broker, lose nothing.

The flood plan's consumer group starts at the log end (``start: latest``) with two instances: its
producers must wait until the group holds every partition. The quickstart interrupted with SIGINT
must stop its producer first and let the consumer read what was acknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.interrupt import acknowledged, interrupted_apply
from tests.integration.test_question_plans import PLANS, apply

pytestmark = pytest.mark.integration


def _workloads(summary: dict) -> dict[str, dict]:
    return {w["name"]: w for w in summary["workloads"]}


def _producer_ends(run: Path, workload: str) -> list[dict]:
    return [json.loads(p.read_text().splitlines()[-1]) for p in sorted((run / "raw" / "native" / workload).glob("*.jsonl"))]


def test_flood_plan_shortened_loses_nothing(tmp_path) -> None:
    run = tmp_path / "run"
    code, summary = apply("flood-detection.yaml", run,
                          "phases.warmup.duration=3s", "phases.baseline.duration=4s",
                          "phases.flood-ramp.duration=3s", "phases.flood-ramp.to=8k/s",
                          "phases.flood.duration=4s", "phases.flood.rate=8k/s", "phases.recovery.duration=4s",
                          "slos.recovered-latency.sustained=2s", "slos.disk-headroom.sustained=2s")
    ingest, devices = _workloads(summary)["ingest"], _workloads(summary)["devices"]
    # the other SLOs judge this shared machine's latency and disk: only the loss audit is the point here
    assert {s["name"]: s["verdict"] for s in summary["slos"]}["nothing-lost"] == "pass", summary["warnings"]
    assert code in (0, 1) and summary["run"]["status"] == "completed"
    assert (ingest["lost"], ingest["duplicated"], ingest["lost_excluded"]) == (0, 0, [])
    assert ingest["messages"] == devices["messages"] > 0
    # the producer waited for the group instead of sending into partitions nobody read yet
    assert all(end["groups_waited_s"] is not None for end in _producer_ends(run, "devices"))


def test_quickstart_interrupted_with_sigint_loses_nothing(tmp_path) -> None:
    run = tmp_path / "run"
    code, _, err = interrupted_apply(
        [str(PLANS / "quickstart.yaml"), "--run-dir", str(run), "--set", "phases.warmup.duration=2s",
         "--set", "phases.steady.duration=5m"], lambda: acknowledged(run, "producer"), after_s=3.0)
    assert code == 130, err
    summary = json.loads((run / "summary.json").read_text())
    consumer, producer = _workloads(summary)["consumer"], _workloads(summary)["producer"]
    assert summary["run"]["status"] == "interrupted"
    assert {s["name"]: s["verdict"] for s in summary["slos"]}["nothing-lost"] == "pass", summary["warnings"]
    assert (consumer["lost"], consumer["duplicated"], consumer["lost_excluded"]) == (0, 0, [])
    assert consumer["messages"] == producer["messages"] > 0
