import json
import time
from dataclasses import replace

import pytest

from orchestrator.errors import EngineError, RunError
from orchestrator.cluster import Cluster
from orchestrator.execute.native import FileTail, LocalRunners, NativeWorkload
from orchestrator.execute.topics import ensure_topics
from orchestrator.pipeline import LOAD_ENGINES
from orchestrator.plan.models import Plan
from orchestrator.render import runner as render_runner
from orchestrator.rundir import RunDir

UNREACHABLE = Cluster(bootstrap_servers="127.0.0.1:1", brokers=[], kafka_version="4.1.1")


def plan(topic: str, **producer) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "native"},
        "topics": [{"name": topic, "partitions": 2}],
        "workloads": [
            {"name": "prod", "kind": "producer", "topic": topic, "rate": "400/s", "instances": 2, **producer},
            {"name": "cons", "kind": "consumer", "topic": topic, "drain": "5s", "group": f"g-{topic}"},
        ],
        "phases": [{"name": "hold", "kind": "steady", "duration": "3s"}],
    })


def local(p: Plan, workload, run: RunDir) -> NativeWorkload:
    return NativeWorkload(p, workload, run, LocalRunners(workload.name, run))


def test_prepare_writes_one_spec_per_instance(tmp_path):
    run = RunDir.create("native", explicit=tmp_path / "run")
    workload = local(plan("t"), plan("t").workloads[0], run)
    workload.prepare(UNREACHABLE)
    specs = sorted((run.rendered / "native" / "prod").glob("*.json"))
    assert [p.name for p in specs] == ["0.json", "1.json"]
    assert json.loads(specs[1].read_text())["schedule"][0]["rate_from"] == 200.0


def test_agents_without_an_inventory_are_refused_with_a_clear_reason(tmp_path):
    p = plan("t")
    workload = p.workloads[0].model_copy(update={"agents": ["agent-1"]})
    with pytest.raises(RunError, match="agent-1 need the plan's inventory"):
        LOAD_ENGINES["native"](p, workload, RunDir.create("native", explicit=tmp_path / "run"), tmp_path / "p.yaml", None)


def test_a_failing_runner_raises_with_its_own_error_line(tmp_path, monkeypatch):
    # the runners give up on a broker that never answers after 2 s instead of their 30 s
    specs = render_runner.runner_specs
    monkeypatch.setattr(render_runner, "runner_specs",
                        lambda *args: [replace(s, connect_timeout_s=2.0) for s in specs(*args)])
    p = plan("t")
    run = RunDir.create("native", explicit=tmp_path / "run")
    workload = local(p, p.workloads[0], run)
    workload.prepare(UNREACHABLE)
    workload.schedule(time.time())
    workload.start()
    with pytest.raises(EngineError, match=r"instance \d: runner exited with status 1: runner prod/\d: no broker answered within 2s"):
        deadline = time.time() + 120
        while workload.poll() and time.time() < deadline:
            time.sleep(0.2)
    workload.stop()


class _Proc:
    def __init__(self, code):
        self.code = code

    def poll(self):
        return self.code


def _records(path, *records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return FileTail(path)


def test_finished_instances_add_nothing_to_the_live_rate(tmp_path):
    p = plan("t")
    workload = local(p, p.workloads[0], RunDir.create("native", explicit=tmp_path / "run"))
    interval = {"type": "interval", "start": 10.0, "ts": 11.0, "acked": 100}
    workload.transport.files = [_records(tmp_path / "0.jsonl", interval),
                      _records(tmp_path / "1.jsonl", interval, {"type": "end", "ts": 11.5}),
                      _records(tmp_path / "2.jsonl", interval)]
    workload.transport.procs = [_Proc(None), _Proc(None), _Proc(0)]
    assert workload.live_stats().produced_per_s == 100.0


@pytest.mark.integration
def test_producers_and_consumer_run_to_the_end(tmp_path, kafka_broker, topic_name):
    p = plan(topic_name)
    ensure_topics(kafka_broker, p.topics)
    run = RunDir.create("native", explicit=tmp_path / "run")
    workloads = [local(p, w, run) for w in p.workloads]
    start_at = time.time() + 2  # one for the run, as the pipeline gives it: producers wait for its consumers
    for w in workloads:
        w.prepare(kafka_broker)
        w.schedule(start_at)
        w.start()
    deadline = time.time() + 120
    while any([w.poll() for w in workloads]) and time.time() < deadline:
        time.sleep(0.2)
    for w in workloads:
        w.stop()
    ends = {path: json.loads(path.read_text().splitlines()[-1])
            for path in (run.raw / "native").glob("*/*.jsonl")}
    assert {e["reason"] for e in ends.values()} == {"done"}
    produced = sum(e["acked"] for e in ends.values() if e["role"] == "producer")
    consumed = sum(e["received"] for e in ends.values() if e["role"] == "consumer")
    assert produced == consumed == 1200


@pytest.mark.integration
def test_stop_ends_runners_early_with_their_records(tmp_path, kafka_broker, topic_name):
    p = plan(topic_name)
    # producers alone: with the plan's consumer named but not running they would wait for its group
    p = p.model_copy(update={"phases": [p.phases[0].model_copy(update={"duration": 300.0})], "workloads": p.workloads[:1]})
    ensure_topics(kafka_broker, p.topics)
    run = RunDir.create("native", explicit=tmp_path / "run")
    workload = local(p, p.workloads[0], run)
    workload.prepare(kafka_broker)
    workload.schedule(time.time())
    workload.start()
    deadline = time.time() + 60
    while workload.live_stats().produced_per_s == 0 and time.time() < deadline:
        time.sleep(0.2)
    workload.stop()
    assert workload.poll() is False
    ends = [json.loads(path.read_text().splitlines()[-1]) for path in (run.raw / "native" / "prod").glob("*.jsonl")]
    assert [e["reason"] for e in ends] == ["signal", "signal"]
