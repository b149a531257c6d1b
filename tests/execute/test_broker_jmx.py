"""The JMX monitor's lifecycle: one JmxTool per broker with a JMX port, started again after it
exits (its broker went away), stopped for good by stop()."""

from __future__ import annotations

import sys

import pytest

from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.errors import RunError
from orchestrator.execute import broker_jmx
from orchestrator.execute.broker_jmx import BrokerJmxMonitor
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir

PLAN = Plan.model_validate({
    "metadata": {"name": "jmx-test"}, "topics": [{"name": "t"}],
    "workloads": [{"name": "p", "kind": "producer", "topic": "t"}],
    "phases": [{"name": "s", "kind": "steady", "duration": "5s"}],
    "monitors": {"jmx": {"enabled": True, "interval": "1s"}},
})


def _cluster(*jmx: str | None) -> Cluster:
    return Cluster("127.0.0.1:1", [BrokerHandle(i, "localhost", f"127.0.0.1:{9092 + i}", jmx=j) for i, j in enumerate(jmx)], "4.1.1")


@pytest.fixture
def fake_java(monkeypatch, tmp_path):
    """A "java" that prints one line of tsv and exits, like a JmxTool whose broker went away."""
    script = tmp_path / "java"
    script.write_text(f"#!{sys.executable}\nprint('time\\t1000')\n")
    script.chmod(0o755)
    monkeypatch.setattr(broker_jmx, "java_binary", lambda: str(script))
    monkeypatch.setattr(broker_jmx, "kafka_libs", lambda version: tmp_path)
    monkeypatch.setattr(broker_jmx, "java_classpath", lambda version: str(tmp_path / "*"))


def test_a_broker_without_a_jmx_port_is_left_out_and_none_at_all_is_an_error(tmp_path, fake_java):
    with pytest.raises(RunError, match="no broker of the target has a JMX port"):
        BrokerJmxMonitor(PLAN, RunDir(tmp_path)).prepare(_cluster(None))


def test_an_exited_jmxtool_is_started_again_no_sooner_than_the_restart_delay(tmp_path, fake_java, monkeypatch):
    run = RunDir(tmp_path)
    monitor = BrokerJmxMonitor(PLAN, run)
    monitor.prepare(_cluster("127.0.0.1:9999", None))
    monitor.start()
    [sampler] = monitor._samplers
    sampler.process.wait(30)
    first = sampler.process
    assert monitor.poll() and sampler.process is first  # within RESTART_S: left alone
    monkeypatch.setattr(broker_jmx, "RESTART_S", 0.0)
    assert monitor.poll() and sampler.process is not first
    sampler.process.wait(30)
    monitor.stop()
    assert not monitor.poll()
    assert run.jmx_samples("0").read_text() == "time\t1000\ntime\t1000\n"  # both runs appended
