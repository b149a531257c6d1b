"""The search end to end without a broker: simulated producers that follow the control file and
write runner records for a system with a known knee, the search driver deciding on the live tail
in simulated time, then the report's capacity answer built from the same records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.events import EventLog
from orchestrator.execute.search import SearchDriver
from orchestrator.pipeline import PhaseClock, write_resolved_plan
from orchestrator.plan.models import Plan
from orchestrator.report.build import build
from orchestrator.rundir import RunDir
from orchestrator.runner.control import ControlReader
from orchestrator.runner.histogram import Histogram

T0 = 1_700_000_000.3  # not on a whole second: probes and windows must still line up with the intervals
INSTANCES = 2
PLAN = f"""
metadata: {{name: sim}}
monitors: {{iostat: {{enabled: false}}, kafka_admin: {{enabled: false}}}}
report: {{formats: [html]}}
topics: [{{name: t}}]
workloads:
  - {{name: load, kind: producer, topic: t, instances: {INSTANCES}, rate: 1k/s, message: {{size: 500B}}}}
phases:
  - {{name: warm, kind: warmup, duration: 5s, rate: 1k/s}}
  - {{name: find, kind: search, slos: [p99, errors], start_rate: 1k/s, max_rate: 200k/s, resolution: 10%,
      settle: 2s, measure: 10s, confirm: 20s}}
slos:
  - {{name: p99, metric: publish_latency.p99, threshold: 50ms}}
  - {{name: errors, metric: produce.errors, threshold: 0}}
"""


class Producers:
    """Runner records of INSTANCES producers: the cluster answers in 5 ms up to ``knee`` msg/s and
    in 80 ms above it, and at any rate in the ``disturbed`` seconds (offsets from T0); the generator
    sends at most ``generator`` msg/s."""

    def __init__(self, run: RunDir, knee: float, generator: float, disturbed: tuple[float, float] | None = None):
        self.knee, self.generator, self.disturbed = knee, generator, disturbed
        self.control = ControlReader(run.control)
        self.files = []
        for i in range(INSTANCES):
            path = run.raw / "native" / "load" / f"{i}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files.append(path.open("a"))
            self._write(i, {"type": "start", "ts": T0, "pid": 1, "config": {}})

    def _write(self, i: int, record: dict) -> None:
        common = {"workload": "load", "instance": i, "role": "producer", "host": "localhost"}
        self.files[i].write(json.dumps({**record, **common}) + "\n")
        self.files[i].flush()

    def second(self, start: float, phase: str) -> None:
        probe = self.control.refresh(int(start * 1e9)) and self.control.probe_at(int(start * 1e9))
        per_instance = probe.rates["load"] if probe else 1000.0 / INSTANCES
        total = per_instance * INSTANCES
        sent = min(total, self.generator) / INSTANCES
        disturbed = self.disturbed is not None and self.disturbed[0] <= start - T0 < self.disturbed[1]
        latency, delay = (5_000 if total <= self.knee and not disturbed else 80_000), Histogram()
        delay.record_many(100, int(sent))
        publish = Histogram()
        publish.record_many(latency, int(sent))
        for i in range(INSTANCES):
            self._write(i, {"type": "interval", "ts": start + 1, "start": start, "phase": phase, "sent": int(sent),
                            "acked": int(sent), "errors": 0, "bytes": int(sent) * 526, "target_rate": per_instance,
                            "hist": {"publish_latency": publish.to_dict(), "publish_delay": delay.to_dict(),
                                     "corrected_latency": publish.to_dict()}})

    def close(self) -> None:
        for f in self.files:
            f.close()


def simulate(tmp_path: Path, knee: float, generator: float = float("inf"), seconds: float | None = None,
             max_probes: int | None = None, disturbed: tuple[float, float] | None = None) -> tuple[SearchDriver, RunDir]:
    """``seconds``: cut the run short there, as an abort or an interrupt would."""
    raw = yaml.safe_load(PLAN)
    if max_probes is not None:
        raw["phases"][1]["max_probes"] = max_probes
    plan = Plan.model_validate(raw)
    run = RunDir.create("sim", explicit=tmp_path / "run")
    write_resolved_plan(plan, run.resolved_plan)
    events = EventLog(run.events)
    events.write("run_start", "sim", "bootstrap 127.0.0.1:9", ts=T0)
    clock = PhaseClock(plan, T0, events)
    driver = SearchDriver(plan, run, events, clock.boundaries()[-2], T0)
    producers = Producers(run, knee, generator, disturbed)
    n = 0
    while n < (plan.total_duration if seconds is None else seconds):
        start = T0 + n
        if start >= clock.boundaries()[-1]:
            break
        producers.second(start, "warm" if n < 5 else "find")
        now = start + 1.05  # the second's records are written just after it ends
        clock.advance(now)
        if (ended := driver.poll(now)) is not None:
            clock.end_at(ended)
        n += 1
    end = clock.boundaries()[-1] if seconds is None else T0 + seconds
    clock.advance(end)
    driver.close(end)
    clock.close(end)
    producers.close()
    events.write("run_end", "sim", ts=end)
    return driver, run


def _capacity(run: RunDir):
    summary = build(run.root)
    return summary, next(a for a in summary.answers if a.question == "capacity")


@pytest.mark.parametrize("knee", [9_000, 23_000])
def test_the_search_finds_the_knee_within_its_resolution_and_the_run_passes(tmp_path, knee) -> None:
    driver, run = simulate(tmp_path, knee)
    summary, answer = _capacity(run)
    assert answer.answered and answer.verdict == "confirmed" and answer.unit == "msg/s"
    assert knee / 1.1 <= answer.value <= knee
    assert answer.sentence.startswith(f"Capacity at publish_latency.p99 <= 50 ms and produce.errors <= 0: "
                                      f"{answer.value:,.0f} msg/s (")
    assert "+/- 10 %; at " in answer.sentence and "publish_latency.p99 was 80 ms." in answer.sentence
    # the report judged every probe as the search did while it ran
    assert [row["outcome"] for row in answer.rows] == [r.outcome for r in driver.results]
    assert [row["probe"] for row in answer.rows] == [s.name for s in summary.steps]
    assert summary.steps[-1].role == "confirm" and summary.steps[0].name == "find/1"
    assert [(s.name, s.verdict, s.phase) for s in summary.slos] == [
        ("p99", "pass", f"{summary.steps[-1].name} (the confirmation)"),
        ("errors", "pass", f"{summary.steps[-1].name} (the confirmation)")]
    assert summary.verdict == "pass"
    html = run.report_html.read_text()
    assert "find/1" in html and "+/- 10 %" in html


def test_a_generator_limit_is_reported_as_such_and_fails_the_run(tmp_path) -> None:
    _, run = simulate(tmp_path, knee=100_000, generator=7_000)
    summary, answer = _capacity(run)
    assert not answer.answered and answer.value is None and answer.verdict == "generator-limited"
    assert "the load generator, not the cluster, was the limit: at 8,000 msg/s it sent only 7,000 msg/s (88 %" in answer.sentence
    assert "the capacity is at least 4,000 msg/s" in answer.sentence
    assert "raise workloads.load.instances (now 2" in answer.sentence
    assert [s.verdict for s in summary.slos] == ["no_data", "no_data"] and summary.verdict == "fail"


def test_the_search_phase_ends_when_the_answer_is_confirmed(tmp_path) -> None:
    driver, run = simulate(tmp_path, knee=9_000)
    events = [json.loads(line) for line in run.events.read_text().splitlines()]
    end = next(e for e in events if e["kind"] == "phase_end" and e["name"] == "find")
    assert end["ts"] == driver.ended < T0 + 5 + Plan.model_validate(yaml.safe_load(PLAN)).phases[1].duration
    control = json.loads(run.control.read_text())
    assert control["end"] == pytest.approx(driver.ended) and len(control["probes"]) == len(driver.results)


def test_a_cluster_faster_than_max_rate_says_so(tmp_path) -> None:
    _, run = simulate(tmp_path, knee=1_000_000)
    summary, answer = _capacity(run)
    assert (answer.answered, answer.verdict) == (False, "above max_rate")
    assert "every probe held, up to 200,000 msg/s; raise phases.find.max_rate" in answer.sentence
    assert summary.verdict == "fail"


def test_a_run_cut_short_leaves_the_search_unfinished(tmp_path) -> None:
    _, run = simulate(tmp_path, knee=23_000, seconds=70)
    summary, answer = _capacity(run)
    assert (answer.answered, answer.verdict) == (False, "search unfinished")
    assert "before the search did (it would have probed 8,000 msg/s next)" in answer.sentence
    assert summary.steps[-1].end is not None and len(answer.rows) == 3


def test_a_disturbed_probe_that_costs_the_confirmation_is_named_in_the_answer(tmp_path) -> None:
    # the 4,000 msg/s probe fails while something else loads the system, holds when probed again
    driver, run = simulate(tmp_path, knee=9_000, max_probes=12, disturbed=(43, 53))
    assert [(r.rate, r.outcome) for r in driver.results][2] == (4000.0, "failed")
    summary, answer = _capacity(run)
    assert (answer.answered, answer.verdict) == (False, "not converged")
    assert "between 8,724 msg/s (held) and 9,514 msg/s (failed), 9.1 % apart, but not confirmed within max_probes 12: " \
           "1 probe(s) failed at a rate that held on a later probe" in answer.sentence
    assert summary.verdict == "fail"


def test_a_probe_limit_before_the_confirmation_says_so(tmp_path) -> None:
    _, run = simulate(tmp_path, knee=9_000, max_probes=8)
    _, answer = _capacity(run)
    assert answer.verdict == "not converged"
    assert answer.sentence.endswith("9.1 % apart, but not confirmed within max_probes 8: the limit came before the "
                                    "failure's repeat and the confirmation; raise max_probes.")
