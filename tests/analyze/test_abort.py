from __future__ import annotations

import json

import pytest
import yaml

from orchestrator.analyze.slo import AbortWatch
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir
from orchestrator.runner.histogram import Histogram

T0 = 1_800_000_000
PLAN = """
metadata: {name: abort}
topics: [{name: t}]
workloads: [{name: p, kind: producer, topic: t, rate: 100/s}]
phases: [{name: warm, kind: warmup, duration: 10s}, {name: hold, kind: steady, duration: 60s}]
slos:
  - {name: p99, metric: publish_latency.p99, op: "<", threshold: 20ms, sustained: 3s, abort: true}
  - {name: judged-later, metric: disk.util, op: "<", threshold: 1%}
"""


def _interval(second: int, latency_ms: float) -> str:
    h = Histogram()
    for _ in range(10):
        h.record(int(latency_ms * 1000))
    return json.dumps({"type": "interval", "ts": second + 1, "start": second, "workload": "p", "instance": 0,
                       "role": "producer", "acked": 100, "bytes": 1000, "errors": 0,
                       "hist": {"publish_latency": h.to_dict()}}) + "\n"


@pytest.fixture
def run(tmp_path) -> RunDir:
    run = RunDir.create("abort", explicit=tmp_path)
    events = [{"ts": T0, "kind": "phase_start", "name": "warm"}, {"ts": T0 + 10, "kind": "phase_end", "name": "warm"},
              {"ts": T0 + 10, "kind": "phase_start", "name": "hold"}]
    run.events.write_text("".join(json.dumps(e) + "\n" for e in events))
    (run.raw / "native").mkdir()
    return run


def _write(run: RunDir, latencies: dict[int, float], mode: str = "a") -> None:
    path = run.raw / "native" / "p-0.jsonl"
    start = json.dumps({"type": "start", "ts": T0, "workload": "p", "instance": 0, "role": "producer"}) + "\n"
    with path.open(mode) as out:
        if mode == "w":
            out.write(start)
        out.writelines(_interval(T0 + s, ms) for s, ms in sorted(latencies.items()))


def _watch(run: RunDir) -> AbortWatch:
    return AbortWatch(Plan.model_validate(yaml.safe_load(PLAN)), run)


def test_breach_sustained_outside_warmup_aborts(run):
    _write(run, {s: 50.0 if 20 <= s < 24 else 2.0 for s in range(30)}, mode="w")
    breach = _watch(run).check(now=T0 + 40)
    assert breach is not None and breach.name == "p99" and breach.aborted_run
    assert breach.breached_at == T0 + 20 and breach.observed > 20


def test_slow_warmup_does_not_abort(run):
    _write(run, {s: 50.0 if s < 10 else 2.0 for s in range(30)}, mode="w")
    assert _watch(run).check(now=T0 + 40) is None


def test_short_spike_does_not_abort(run):
    _write(run, {s: 50.0 if s in (20, 21) else 2.0 for s in range(30)}, mode="w")
    assert _watch(run).check(now=T0 + 40) is None


def test_breach_across_checks_is_found_from_appended_lines_only(run):
    watch = _watch(run)
    _write(run, {s: 2.0 if s < 20 else 50.0 for s in range(22)}, mode="w")
    assert watch.check(now=T0 + 30) is None
    first_offset = watch.tail.offsets[run.raw / "native" / "p-0.jsonl"]
    _write(run, {22: 50.0, 23: 50.0})
    breach = watch.check(now=T0 + 40)
    assert breach is not None and breach.breached_at == T0 + 20
    assert watch.tail.offsets[run.raw / "native" / "p-0.jsonl"] > first_offset


def test_unsettled_seconds_wait_for_the_next_check(run):
    watch = _watch(run)
    _write(run, {s: 50.0 if s >= 20 else 2.0 for s in range(25)}, mode="w")
    assert watch.check(now=T0 + 22) is None  # seconds 20..24 are not settled yet
    assert watch.check(now=T0 + 40) is not None


def test_no_raw_data_yet_is_no_breach(run):
    assert _watch(run).check(now=T0 + 5) is None


def test_memory_is_bounded_to_the_sustain_window(run):
    watch = _watch(run)
    _write(run, {s: 2.0 for s in range(60)}, mode="w")
    watch.check(now=T0 + 100)
    assert max(len(points) for points in watch.tail.points.values()) <= 3 + 10


def test_a_stall_without_acknowledgements_aborts(run):
    _write(run, {s: 2.0 for s in range(20)}, mode="w")
    stalled = [json.dumps({"type": "interval", "ts": T0 + s + 1, "start": T0 + s, "workload": "p", "instance": 0,
                           "role": "producer", "sent": 100, "acked": 0, "bytes": 0, "errors": 0, "hist": {},
                           "in_flight": 100 * (s - 19), "oldest_in_flight_ms": 1000.0 * (s - 20)}) + "\n"
               for s in range(20, 30)]
    with (run.raw / "native" / "p-0.jsonl").open("a") as out:
        out.writelines(stalled)
    breach = _watch(run).check(now=T0 + 40)
    # the first stalled second's wait (0 ms) holds; from the next one on (1 s, 2 s, …) they are past 20 ms
    assert breach is not None and breach.breached_at == T0 + 21 and breach.observed == 1000.0
