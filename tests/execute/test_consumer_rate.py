"""The consumer-rate question end to end without a broker: simulated producers and consumers that
follow the control file and write runner records, the drain or search driver deciding in
simulated time, then the report's consumer_rate answer built from the same records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.events import EventLog
from orchestrator.execute.drain import DrainDriver
from orchestrator.execute.search import SearchDriver
from orchestrator.pipeline import PhaseClock, write_resolved_plan
from orchestrator.plan.models import Plan
from orchestrator.report.build import build
from orchestrator.rundir import RunDir
from orchestrator.runner.control import ControlReader

T0 = 1_700_000_000.3  # off the whole second, as a real start is
MESSAGE = 1000  # bytes
DRAIN_PLAN = """
metadata: {name: drain}
monitors: {iostat: {enabled: false}, kafka_admin: {enabled: false}}
report: {formats: [html]}
topics: [{name: t}]
workloads:
  - {name: fill, kind: producer, topic: t, instances: 2, message: {size: 1000B}}
  - {name: readers, kind: consumer, topic: t, instances: 2}
phases:
  - {name: drain, kind: drain, backlog_messages: 60000, timeout: 2m}
"""
LAG_PLAN = """
metadata: {name: lag}
monitors: {iostat: {enabled: false}, kafka_admin: {enabled: false}}
report: {formats: [html]}
topics: [{name: t}]
workloads:
  - {name: in, kind: producer, topic: t, rate: 1k/s, message: {size: 1000B}}
  - {name: out, kind: consumer, topic: t, processing: {delay: 0.1ms}}
phases:
  - {name: warm, kind: warmup, duration: 5s, rate: 1k/s}
  - {name: find, kind: search, slos: [lag], start_rate: 1k/s, max_rate: 100k/s, resolution: 10%,
      settle: 2s, measure: 10s, confirm: 20s}
slos:
  - {name: lag, metric: consume.lag_growth, workload: out, threshold: 100}
"""


class Records:
    """One runner record file per instance, as the native runners write them."""

    def __init__(self, run: RunDir, workload: str, role: str, instances: int):
        self.workload, self.role, self.files = workload, role, []
        for i in range(instances):
            path = run.raw / "native" / workload / f"{i}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files.append(path.open("a"))
            self.write(i, {"type": "start", "ts": T0, "pid": 1, "config": {}})

    def write(self, i: int, record: dict) -> None:
        common = {"workload": self.workload, "instance": i, "role": self.role, "host": "localhost"}
        self.files[i].write(json.dumps({**record, **common}) + "\n")
        self.files[i].flush()

    def interval(self, i: int, start: float, phase: str | None, count: int, **extra) -> None:
        key = "acked" if self.role == "producer" else "received"
        self.write(i, {"type": "interval", "ts": start + 1, "start": start, "phase": phase, key: count,
                       "bytes": count * MESSAGE, **({"sent": count, "errors": 0} if self.role == "producer" else {}),
                       **extra})

    def close(self) -> None:
        for f in self.files:
            f.close()


def _start(plan_text: str, tmp_path: Path) -> tuple[Plan, RunDir, EventLog, PhaseClock]:
    plan = Plan.model_validate(yaml.safe_load(plan_text))
    run = RunDir.create(plan.metadata.name, explicit=tmp_path / "run")
    write_resolved_plan(plan, run.resolved_plan)
    events = EventLog(run.events)
    events.write("run_start", plan.metadata.name, "bootstrap 127.0.0.1:9", ts=T0)
    return plan, run, events, PhaseClock(plan, T0, events)


def _finish(run: RunDir, events: EventLog, clock: PhaseClock, driver, end: float, *records: Records):
    clock.advance(end)
    driver.close(end)
    clock.close(end)
    for r in records:
        r.close()
    events.write("run_end", "sim", ts=end)
    summary = build(run.root)
    return summary, next(a for a in summary.answers if a.question == "consumer_rate")


def simulate_drain(tmp_path: Path, read_per_s: int, fill_per_s: int = 10_000, seconds: int = 200):
    """Each producer instance acks ``fill_per_s`` a second until its share is sent; each consumer
    instance reads ``read_per_s`` a second once released, until the backlog is read."""
    plan, run, events, clock = _start(DRAIN_PLAN, tmp_path)
    driver = DrainDriver(plan, run, events, clock.boundaries()[-2], T0)
    fill, readers = Records(run, "fill", "producer", 2), Records(run, "readers", "consumer", 2)
    control = ControlReader(run.control)
    shares, backlog, ended = [30_000, 30_000], 0, [False, False]
    for n in range(seconds):
        start = T0 + n
        if start >= clock.boundaries()[-1]:
            break
        for i in range(2):
            if shares[i]:
                count = min(shares[i], fill_per_s)
                shares[i] -= count
                backlog += count
                fill.interval(i, start, "drain", count)
            elif not ended[i]:
                fill.write(i, {"type": "end", "ts": start, "reason": "done", "error": None})
                ended[i] = True
        view = control.refresh(int(start * 1e9))
        released = view.release_ns is not None and start * 1e9 >= view.release_ns
        phase = None if view.end_ns is not None and start * 1e9 >= view.end_ns else "drain"
        for i in range(2):
            count = min(backlog, read_per_s) if released else 0
            backlog -= count
            readers.interval(i, start, phase, count, lag=backlog if released else 0)
        now = start + 1.05
        clock.advance(now)
        if (done := driver.poll(now)) is not None:
            clock.end_at(done)
    return driver, run, _finish(run, events, clock, driver, min(clock.boundaries()[-1], T0 + seconds), fill, readers)


def test_a_drained_backlog_is_answered_with_the_rate_from_first_to_last_message(tmp_path) -> None:
    driver, run, (summary, answer) = simulate_drain(tmp_path, read_per_s=3000)
    assert answer.answered and answer.verdict == "drained" and answer.unit == "msg/s"
    # 60,000 messages read at 2 x 3,000 msg/s: ten whole seconds
    assert answer.value == pytest.approx(6000.0)
    assert answer.sentence == "2 consumers drained a 57.2 MiB backlog at 5.72 MiB/s (6,000 msg/s) in 10s."
    assert answer.inputs["backlog_messages"] == 60_000 and answer.inputs["drain_s"] == 10.0
    (window,) = answer.windows
    assert window.label == "drain (first message to backlog read)" and window.end - window.start == 10
    assert window.start >= driver.release - 0.5
    kinds = [e.kind for e in summary.events]
    assert kinds.index("backlog_written") < kinds.index("backlog_drained")
    # the phase ended soon after the backlog was read, long before its 2 m timeout
    drain = next(p for p in summary.phases if p.name == "drain")
    assert drain.end == driver.ended < window.end + 5
    assert answer.section == "throughput" and "57.2 MiB backlog" in run.report_html.read_text()


def test_a_drain_that_times_out_says_how_far_it_got(tmp_path) -> None:
    _, _, (summary, answer) = simulate_drain(tmp_path, read_per_s=200)
    assert not answer.answered and answer.verdict == "not drained"
    assert answer.sentence.startswith("2 consumers read ") and "of a 57.2 MiB backlog (60,000 messages) at " in answer.sentence
    assert answer.sentence.endswith("and had not drained it when drain 'drain' ended.")
    assert answer.value == pytest.approx(400.0, rel=0.05)
    assert next(e for e in summary.events if e.kind == "backlog_drained").detail.startswith("not drained: ")


def test_consumers_are_released_only_once_every_producer_has_ended(tmp_path) -> None:
    driver, run, _ = simulate_drain(tmp_path, read_per_s=3000, fill_per_s=5000)
    written = next(json.loads(line) for line in run.events.read_text().splitlines()
                   if json.loads(line)["kind"] == "backlog_written")
    # 30,000 per producer at 5,000 a second: six seconds of filling, the end records in the seventh
    assert written["ts"] == driver.release >= T0 + 7
    assert written["detail"] == "60000 messages (60000000 bytes) acknowledged; consumers released"


def simulate_lag_search(tmp_path: Path, capacity: float):
    """One producer at the probe's rate; one consumer that reads at most ``capacity`` msg/s, so
    its position lag grows by the difference above it."""
    plan, run, events, clock = _start(LAG_PLAN, tmp_path)
    driver = SearchDriver(plan, run, events, clock.boundaries()[-2], T0)
    producer, consumer = Records(run, "in", "producer", 1), Records(run, "out", "consumer", 1)
    control = ControlReader(run.control)
    lag = 0.0
    n = 0
    while T0 + n < clock.boundaries()[-1] and n < 2000:
        start = T0 + n
        probe = control.refresh(int(start * 1e9)) and control.probe_at(int(start * 1e9))
        rate = probe.rates["in"] if probe else 1000.0
        phase = "warm" if n < 5 else "find"
        producer.interval(0, start, phase, int(rate))
        lag += rate
        read = min(lag, capacity)
        lag -= read
        consumer.interval(0, start, phase, int(read), lag=int(lag))
        now = start + 1.05
        clock.advance(now)
        if (ended := driver.poll(now)) is not None:
            clock.end_at(ended)
        n += 1
    return _finish(run, events, clock, driver, clock.boundaries()[-1], producer, consumer)


def test_a_search_on_the_lag_bound_answers_the_highest_input_rate_with_bounded_lag(tmp_path) -> None:
    summary, answer = simulate_lag_search(tmp_path, capacity=7000)
    assert answer.answered and answer.verdict == "bounded up to" and answer.unit == "msg/s"
    assert 7000 / 1.1 <= answer.value <= 7000
    assert answer.sentence == f"Lag stayed bounded up to {answer.value:,.0f} msg/s of input (+/- 10 %)."
    assert answer.inputs["consumers"] == 1 and answer.inputs["processing_mean_s"] == pytest.approx(0.0001)
    assert answer.windows[0].label.endswith("(confirmation)")
    # the capacity answer is the same search's, in its own words
    capacity = next(a for a in summary.answers if a.question == "capacity")
    assert capacity.value == answer.value and summary.verdict == "pass"


def test_a_backlog_never_written_leaves_the_consumers_unreleased_and_the_question_unanswered(tmp_path) -> None:
    _, _, (summary, answer) = simulate_drain(tmp_path, read_per_s=3000, fill_per_s=200)
    assert not answer.answered and answer.value is None and answer.verdict == "not drained"
    assert answer.sentence == ("2 consumers drained nothing: the backlog of drain 'drain' was not acknowledged within "
                               "the phase (timeout 2m), so the consumers were never released.")
    assert next(e for e in summary.events if e.kind == "backlog_drained").detail.startswith(
        "not drained: the backlog was not written by the end")


def test_a_backlog_larger_than_the_local_brokers_free_disk_is_refused_before_any_load(tmp_path) -> None:
    from orchestrator.errors import RunError
    from orchestrator.execute.drain import check_backlog_fits

    plan = Plan.model_validate(yaml.safe_load(DRAIN_PLAN.replace("backlog_messages: 60000", "backlog: 4000TiB")))
    run = RunDir(tmp_path / "run")
    check_backlog_fits(plan, run)  # no broker directory yet: nothing known, nothing refused
    run.broker_dir.mkdir(parents=True)
    with pytest.raises(RunError, match=r"^drain 'drain': a backlog of 3.91 PiB \(replication 1\) does not fit the "
                                       r".* free under .*/run/broker$"):
        check_backlog_fits(plan, run)
    check_backlog_fits(Plan.model_validate(yaml.safe_load(DRAIN_PLAN)), run)  # 57 MiB fits
