from __future__ import annotations

import numpy as np
import yaml

from orchestrator.analyze.answers import AnalysisInput, answer_questions
from orchestrator.analyze.disk import DiskAnalysis
from orchestrator.analyze.window import whole_timeline
from orchestrator.collect.kafka_admin import ClusterFacts, TopicLayout
from orchestrator.collect.timeline import SeriesKey
from orchestrator.plan.models import Plan
from orchestrator.report.build import write_outputs
from orchestrator.rundir import RunDir
from orchestrator.summary import Event, PhaseSpan
from tests.analyze.test_retention import PLAN, REMOTE_PLAN, _plan, _timeline, ramp_then_plateau
from tests.fakes import FakeMeasured

CONFIGS = {"events": {"cleanup.policy": "delete", "retention.ms": "300000", "retention.bytes": "268435456",
                      "segment.bytes": "33554432", "segment.ms": "604800000", "file.delete.delay.ms": "5000"}}


def _input(plan: Plan, timeline, cluster: ClusterFacts | None = None, local_free: float | None = None) -> AnalysisInput:
    return AnalysisInput(plan, FakeMeasured(timeline), whole_timeline(timeline), [], local_free, cluster=cluster or ClusterFacts())


def _segments(timeline, deleted: int) -> None:
    timeline.series[SeriesKey("broker.segments_deleted", host="1")] = [None] * (timeline.length - 1) + [float(deleted)]


def test_a_local_run_that_plateaus_fits_and_says_so_with_numbers():
    _, y = ramp_then_plateau()
    tl = _timeline(1200, {"1": y}, free={("1", "dev:64768"): 84.5e9})
    _segments(tl, 41)
    cluster = ClusterFacts(topic_configs=CONFIGS, broker_configs={"1": {"log.retention.check.interval.ms": "15000"}},
                           topics={"events": TopicLayout(6, 1, {"1": 6})}, log_dirs_sources={"local"})
    answer = DiskAnalysis().answer(_input(_plan(), tl, cluster))
    assert answer.answered and answer.verdict == "fits" and not answer.alarm and answer.unit == "B"
    s = answer.sentence
    assert s.startswith("At 10 MB/s on disk (RF 1; clients sent 10 MB/s, 1x), retention of 5m or 256 MiB per "
                        "partition (read from the cluster) needs ")
    assert "per broker; broker 1 has 84.5 GB free: fits." in s
    assert "Clean-up keeps up: log size plateaued at 1.8 GB after 2m55s; 41 segments deleted." in s  # capped at 180 s
    assert answer.value > 1.8e9
    assert [w.label for w in answer.windows] == ["growth fit", "plateau"]
    assert answer.inputs["retention_source"] == "cluster" and answer.inputs["cleanup"] == "keeps up"
    assert answer.rows[0]["broker"] == "1" and answer.rows[0]["fits"] is True


def test_lz4_shows_disk_and_payload_rates_and_their_ratio():
    t = np.arange(0, 600, 5, dtype=float)
    plan = _plan(PLAN.replace("retention: 5m, retention_bytes: 256MiB", "retention: 7d"))
    tl = _timeline(600, {"1": 2.6e6 * t}, payload_mb=18.3, free={("1", "dev:1"): 84.5e9})
    answer = DiskAnalysis().answer(_input(plan, tl))
    assert answer.sentence.startswith("At 2.6 MB/s on disk (RF 1; clients sent 18.3 MB/s, 0.142x), retention of 7d (from the plan)")
    # 7 days at 2.6 MB/s: 1.57 TB, which 84.5 GB cannot hold
    assert "needs 1.57 TB per broker; broker 1 has 84.5 GB free and fills in 9.03 hours: does not fit." in answer.sentence
    assert "Clean-up not shown: the run ended before retention could delete (first deletion due 7" in answer.sentence
    assert answer.verdict == "does not fit" and answer.alarm


def test_remote_brokers_name_the_one_that_fills_first():
    t = np.arange(0, 600, 5, dtype=float)
    plan = _plan(REMOTE_PLAN.replace("RETENTION", "retention: 7d"))
    cluster = ClusterFacts(topics={"events": TopicLayout(6, 3, {"1": 6, "2": 6, "3": 6})}, log_dirs_sources={"describeLogDirs"})
    free = {("1", "/data"): 20e12, ("2", "/data"): 2.1e12, ("3", "/data"): 20e12}
    tl = _timeline(600, {b: 16.07e6 * t for b in ("1", "2", "3")}, payload_mb=16.07, free=free)
    answer = DiskAnalysis().answer(_input(plan, tl, cluster))
    assert answer.sentence.startswith("At 48.2 MB/s on disk (RF 3; clients sent 16.1 MB/s, 3x), retention of 7d")
    # per replica 48.2 MB/s / 18 for 7 days and a 5-minute check, plus a straddling and a deleted 1 GiB segment
    assert "needs 9.74 TB per broker; broker 2 has 2.1 TB free and fills in 1.51 days: does not fit." in answer.sentence
    assert [r["fits"] for r in answer.rows] == [True, False, True]


def test_brokers_sharing_one_disk_are_named_together():
    _, y = ramp_then_plateau(rate=3e6, cap=0.6e9)
    plan = _plan(REMOTE_PLAN.replace("RETENTION", "retention: 5m, retention_bytes: 32MiB, configs: {segment.bytes: 8388608}"))
    cluster = ClusterFacts(topics={"events": TopicLayout(6, 3, {"1": 6, "2": 6, "3": 6})})
    tl = _timeline(1200, {b: y for b in ("1", "2", "3")}, payload_mb=3.0,
                   free={(b, "dev:64768"): 100e9 for b in ("1", "2", "3")})
    answer = DiskAnalysis().answer(_input(plan, tl, cluster))
    assert "brokers 1, 2, 3 share a disk with 100 GB free: fits." in answer.sentence
    assert "log size plateaued at 600 MB (largest broker)" in answer.sentence


def test_free_space_unknown_gives_no_verdict():
    t = np.arange(0, 600, 5, dtype=float)
    tl = _timeline(600, {"1": 1e6 * t})
    answer = DiskAnalysis().answer(_input(_plan(REMOTE_PLAN.replace("RETENTION", "retention: 1d")), tl))
    assert answer.verdict is None and "free space unknown" in answer.sentence


def test_the_local_disk_stands_in_for_a_single_broker_without_free_space():
    t = np.arange(0, 600, 5, dtype=float)
    tl = _timeline(600, {"1": 1e6 * t})
    answer = DiskAnalysis().answer(_input(_plan(), tl, local_free=50e9))
    assert "broker 1 has 50 GB free" in answer.sentence and answer.inputs["free_space_source"] == "the local broker's data disk"


def test_no_log_dir_sizes_is_an_unanswered_question():
    tl = _timeline(600, {})
    answer = DiskAnalysis().answer(_input(_plan(), tl))
    assert not answer.answered and answer.value is None
    assert answer.sentence == "Disk not projected: no log-dir sizes were recorded (log-dir source: none)."


def test_the_question_applies_to_plans_with_retention_or_a_log_dir_slo():
    analysis = DiskAnalysis()
    assert analysis.applies(_plan())
    bare = PLAN.replace("retention: 5m, retention_bytes: 256MiB, ", "")
    assert not analysis.applies(_plan(bare))
    assert analysis.applies(_plan(bare + "slos: [{name: cap, metric: broker.log_dir_bytes, threshold: 1GiB}]"))


def test_the_registry_answers_disk_for_the_disk_plan():
    t = np.arange(0, 600, 5, dtype=float)
    answers, warnings = answer_questions(_input(_plan(), _timeline(600, {"1": 1e6 * t}, free={("1", "dev:1"): 1e12})))
    assert [a.question for a in answers] == ["disk"] and warnings == []


def test_a_run_whose_slos_hold_but_whose_disk_does_not_fit_says_so_in_the_header(tmp_path):
    t = np.arange(0, 600, 5, dtype=float)
    text = PLAN.replace("retention: 5m, retention_bytes: 256MiB", "retention: 7d")
    plan = _plan(text)
    tl = _timeline(600, {"1": 2.6e6 * t}, payload_mb=18.3, free={("1", "dev:1"): 84.5e9})
    measured = FakeMeasured(tl, phases=[PhaseSpan(name="s", kind="steady", start=tl.start, end=tl.start + 600)],
                            events=[Event(ts=tl.start, kind="run_start"), Event(ts=tl.start + 600, kind="run_end")])
    run = RunDir.create("demo", explicit=tmp_path / "run")
    run.resolved_plan.write_text(yaml.safe_dump(yaml.safe_load(text)))
    summary = write_outputs(run, plan, measured)
    assert summary.verdict == "pass"
    (answer,) = summary.answers
    assert answer.alarm and answer.verdict == "does not fit"
    header = run.report_html.read_text().split("</header>")[0]
    assert "Although every SLO held: disk does not fit." in header and "chip-alarm" in header
    assert answer.sentence in " ".join(header.split())
