"""TaurusWorkload: real bzt and JMeter against the session's local broker. JMeter starts slowly, so
one mixed apply (native + JMeter) serves several assertions, and one stand-in plugin run the rest."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest

from orchestrator.collect import collect
from orchestrator.errors import EngineError, ToolMissingError
from orchestrator.execute.taurus import TaurusWorkload, _JtlTail
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir
from tests.jmeter.stand_in import build_pepper_box_jar
from tests.jmx_fixtures import OWN, own, public

RUN_BOUND_S = 300


def _plan(bootstrap: str, topic: str, workloads: list[dict], duration: str = "6s") -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "jmeter-it"},
        "target": {"kind": "existing", "bootstrap_servers": [bootstrap]},
        "topics": [{"name": topic}],
        "workloads": workloads,
        "phases": [{"name": "steady", "kind": "steady", "duration": duration}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"enabled": False}},
    })


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def mixed_run(kafka_broker, tmp_path_factory) -> RunDir:
    """One real apply: a native producer, a generated JMeter producer and a JMeter consumer on one topic."""
    from orchestrator.pipeline import apply
    from orchestrator.progress import Progress

    topic = f"t-jmeter-{int(time.time())}"
    plan = _plan(kafka_broker.bootstrap_servers, topic, [
        {"name": "native-p", "kind": "producer", "topic": topic, "rate": "50/s"},
        {"name": "jmeter-p", "kind": "producer", "engine": "jmeter", "topic": topic, "rate": "50/s", "instances": 2,
         "message": {"size": 100}, "keys": {"distribution": "round_robin", "cardinality": 10}},
        {"name": "jmeter-c", "kind": "consumer", "engine": "jmeter", "topic": topic, "drain": "2s"},
    ])
    root = tmp_path_factory.mktemp("mixed") / "run"
    outcome = apply(plan, root.parent / "plan.yaml", root, False, Progress())
    assert outcome.exit_code() == 0, outcome.headline()
    return RunDir(root)


@pytest.mark.integration
def test_generated_plan_produces_through_bzt_one_line_per_message(mixed_run):
    rows = [r for r in _rows(mixed_run.jmeter_messages("jmeter-p")) if r["label"] == "jmeter-p"]
    assert len(rows) == 300  # 50/s for 6 s, paced across both threads
    assert {r["success"] for r in rows} == {"true"} and {r["responseCode"] for r in rows} == {"NONE"}
    assert {r["bytes"] for r in rows} == {"100"}
    assert all(int(r["Connect"]) >= 0 for r in rows)  # the publish delay: intended ▶ actual send


@pytest.mark.integration
def test_bzt_reads_one_line_per_batch_of_sends(mixed_run):
    rows = _rows(mixed_run.raw / "jmeter" / "jmeter-p" / "kpi.jtl")
    assert {r["label"] for r in rows} == {"jmeter-p batch"}
    assert sum(int(r["responseMessage"].split()[0]) for r in rows) == 300
    assert len(rows) < 300


@pytest.mark.integration
def test_generated_producer_reports_the_native_producers_three_latencies(mixed_run):
    w = next(w for w in collect(mixed_run).workloads if w.name == "jmeter-p")
    assert w.messages == 300 and w.errors == 0
    latency = w.latency_ms
    assert latency["publish_latency"].count == latency["publish_delay"].count == latency["corrected_latency"].count == 300
    assert latency["corrected_latency"].max >= latency["publish_latency"].max


@pytest.mark.integration
def test_taurus_ran_offline(mixed_run):
    log = (mixed_run.raw / "jmeter" / "jmeter-p" / "bzt.log").read_text()
    assert "TAURUS_DISABLE_DOWNLOADS" not in log  # nothing even tried to download
    assert "Will install" not in log and "Downloading" not in log


@pytest.mark.integration
def test_only_kpi_jtl_and_the_messages_land_in_the_raw_folder(mixed_run):
    assert sorted(p.name for p in (mixed_run.raw / "jmeter" / "jmeter-p").glob("*.jtl")) == ["kpi.jtl", "messages.jtl"]
    assert [p.name for p in (mixed_run.raw / "jmeter" / "jmeter-c").glob("*.jtl")] == ["kpi.jtl"]


@pytest.mark.integration
def test_jmeter_labels_sit_beside_the_native_workload_in_the_timeline(mixed_run):
    collected = collect(mixed_run)
    assert collected.timeline.select("jmeter.rate", workload="jmeter-p", label="jmeter-p")
    assert collected.timeline.select("produce.rate", workload="native-p")
    engines = {w.name: w.engine for w in collected.workloads}
    assert engines == {"native-p": "native", "jmeter-p": "jmeter", "jmeter-c": "jmeter"}


@pytest.mark.integration
def test_generated_consumer_reads_what_was_produced(mixed_run):
    rows = _rows(mixed_run.raw / "jmeter" / "jmeter-c" / "kpi.jtl")
    counts = [int(r["responseMessage"].split()[0]) for r in rows]
    assert rows and {r["success"] for r in rows} == {"true"}
    assert 0 < sum(counts) <= 600  # both producers write 300 messages to this topic


@pytest.mark.integration
def test_rendered_files_are_kept_in_the_run(mixed_run):
    rendered = mixed_run.rendered / "jmeter" / "jmeter-p"
    assert (rendered / "jmeter-p.jmx").is_file() and (rendered / "taurus.yml").is_file()


# --------------------------------------------------------------------------- existing scripts and plugins

@pytest.fixture(scope="module")
def pepper_box_jar(tmp_path_factory) -> Path:
    return build_pepper_box_jar(tmp_path_factory.mktemp("stand-in"))


PEPPER_BOX = [own("pepper-box.jmx"), public("GSLabDev_pepper-box.jmx")]


def _script_plan(bootstrap: str, topic: str, plugins: list[str], script: Path = OWN / "pepper-box.jmx") -> Plan:
    return _plan(bootstrap, topic, [{"name": "legacy", "kind": "script", "script": str(script),
                                     "topic": topic, "instances": 1, "duration": "4s", "plugins": plugins}])


@pytest.mark.integration
@pytest.mark.parametrize("script", PEPPER_BOX)
def test_missing_plugin_is_named_before_jmeter_runs(kafka_broker, tmp_path, topic_name, script):
    plan = _script_plan(kafka_broker.bootstrap_servers, topic_name, [], script)
    workload = TaurusWorkload(plan, plan.workloads[0], RunDir.create("p", explicit=tmp_path / "run"), tmp_path / "plan.yaml")
    with pytest.raises(ToolMissingError) as err:
        workload.prepare(kafka_broker)
    message = str(err.value)
    assert re.search(r"class com\.gslab\.pepper\.\S+ \(Pepper-Box\) is not on JMeter's classpath", message)
    assert "plugins: [path/to/plugin.jar]" in message and err.value.exit_code == 3


@pytest.mark.integration
@pytest.mark.parametrize("script", PEPPER_BOX)
def test_script_runs_with_a_supplied_plugin_jar_pointed_at_the_plan_target(kafka_broker, tmp_path, topic_name, pepper_box_jar,
                                                                           script):
    plan = _script_plan(kafka_broker.bootstrap_servers, topic_name, [str(pepper_box_jar)], script)
    run = RunDir.create("p", explicit=tmp_path / "run")
    workload = TaurusWorkload(plan, plan.workloads[0], run, tmp_path / "plan.yaml")
    workload.prepare(kafka_broker)
    workload.start()
    deadline = time.monotonic() + RUN_BOUND_S
    try:
        while workload.poll() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        workload.stop()
    rows = _rows(run.raw / "jmeter" / "legacy" / "kpi.jtl")
    assert rows and {r["success"] for r in rows} == {"true"}
    assert {r["responseMessage"] for r in rows} == {f"to {kafka_broker.bootstrap_servers} topic {topic_name}"}


@pytest.mark.integration
@pytest.mark.parametrize("script", [own("kloadgen.jmx"), public("sngular_kloadgen.jmx")])
def test_kloadgen_is_resolved_from_maven_and_run_as_far_as_it_goes(kafka_broker, tmp_path, topic_name, script):
    plan = _script_plan(kafka_broker.bootstrap_servers, topic_name, ["com.sngular:kloadgen:5.6.7"], script)
    workload = TaurusWorkload(plan, plan.workloads[0], RunDir.create("p", explicit=tmp_path / "run"), tmp_path / "plan.yaml")
    try:
        workload.prepare(kafka_broker)
    except ToolMissingError as err:
        # the Maven Central this machine reaches does not serve KLoadGen: the error must say so plainly
        assert "plugin com.sngular:kloadgen:5.6.7: cannot resolve it from Maven Central" in str(err)
        pytest.skip(f"KLoadGen is not available from this Maven Central: {err}")
    workload.start()
    deadline = time.monotonic() + RUN_BOUND_S
    try:
        while workload.poll() and time.monotonic() < deadline:
            time.sleep(1)
    except EngineError as err:
        assert "localhost:8081" in str(err)
        return
    finally:
        workload.stop()
    rows = _rows(workload.artifacts / "kpi.jtl")
    assert rows and all(r["success"] == "false" and "8081" in r["responseMessage"] for r in rows)


def test_jmeter_log_class_error_maps_to_a_missing_plugin(tmp_path, monkeypatch):
    plan = _script_plan("127.0.0.1:9", "t1", [])
    workload = TaurusWorkload(plan, plan.workloads[0], RunDir.create("p", explicit=tmp_path / "run"), tmp_path / "plan.yaml")
    workload.artifacts.mkdir(parents=True)
    (workload.artifacts / "jmeter.log").write_text(
        "ERROR o.a.j.JMeter: Error in NonGUIDriver com.thoughtworks.xstream.converters.ConversionException: "
        "com.thoughtworks.xstream.mapper.CannotResolveClassException: com.di.jmeter.kafka.sampler.KafkaProducerSampler\n")
    with pytest.raises(ToolMissingError, match=r"class com.di.jmeter.kafka.sampler.KafkaProducerSampler \(DI-Kafkameter\) "
                                               r"is not on JMeter's classpath; add its jar to workload 'legacy'"):
        workload._raise_if_failed(1)


def test_consumer_that_received_nothing_is_a_result_not_an_error(tmp_path):
    plan = _plan("127.0.0.1:9", "t1", [{"name": "c", "kind": "consumer", "engine": "jmeter", "topic": "t1"}])
    workload = TaurusWorkload(plan, plan.workloads[0], RunDir.create("p", explicit=tmp_path / "run"), tmp_path / "plan.yaml")
    workload.artifacts.mkdir(parents=True)
    (workload.artifacts / "bzt.log").write_text("ERROR root] Child Process Error: Empty results, most likely c failed.\n")
    workload._raise_if_failed(1)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _jtl_line(success: bool = True, message: str = "OK") -> str:
    return f"1700000000000,3,p,200,{message},p 1-1,{'true' if success else 'false'},100,1,1,2,host,0\n"


def _tail(tmp_path: Path, consumer: bool = False) -> tuple[_JtlTail, Path, _Clock]:
    clock = _Clock()
    path = tmp_path / "kpi.jtl"
    path.write_text("timeStamp,elapsed,label,responseCode,responseMessage,threadName,success,bytes,grpThreads,"
                    "allThreads,Latency,Hostname,Connect\n")
    return _JtlTail(path, consumer, clock), path, clock


def test_live_rate_averages_the_rows_of_the_last_seconds(tmp_path):
    tail, path, clock = _tail(tmp_path)
    for _ in range(5):
        clock.now += 1
        with path.open("a") as f:
            f.write(_jtl_line() * 10)
        stats = tail.stats()
    assert stats.produced_per_s == pytest.approx(10.0)


def test_live_rate_drops_to_zero_when_the_jtl_stops_growing(tmp_path):
    tail, path, clock = _tail(tmp_path)
    clock.now += 1
    with path.open("a") as f:
        f.write(_jtl_line() * 50)
    assert tail.stats().produced_per_s > 0
    clock.now += _JtlTail.IDLE_S + 0.5
    assert tail.stats().produced_per_s == 0.0


def test_live_rate_is_zero_once_the_workload_is_done(tmp_path):
    tail, path, clock = _tail(tmp_path)
    clock.now += 1
    with path.open("a") as f:
        f.write(_jtl_line() * 50)
    assert tail.stats(done=True).produced_per_s == 0.0


def test_live_producer_rate_counts_the_messages_of_each_batch_and_their_failures(tmp_path):
    tail, path, clock = _tail(tmp_path)
    clock.now += 2
    with path.open("a") as f:
        f.write(_jtl_line(message="30 messages") + _jtl_line(success=False, message="12 messages; 2 failed"))
    stats = tail.stats()
    assert (stats.produced_per_s, stats.errors) == (20.0, 2)


def test_live_consumer_rate_counts_messages_and_errors_count_failed_rows(tmp_path):
    tail, path, clock = _tail(tmp_path, consumer=True)
    clock.now += 2
    with path.open("a") as f:
        f.write(_jtl_line(message="30 messages") + _jtl_line(success=False, message="timeout"))
    stats = tail.stats()
    assert (stats.consumed_per_s, stats.errors) == (15.0, 1)
