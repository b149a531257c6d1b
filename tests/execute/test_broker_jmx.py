"""The JMX monitor's lifecycle: one JmxTool per broker with a JMX port, started again after it
exits (its broker went away), stopped for good by stop()."""

from __future__ import annotations

import sys
import time

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


def _java(monkeypatch, tmp_path, program: str) -> None:
    """A "java" running ``program`` (Python) in place of JmxTool."""
    script = tmp_path / "java"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{program}\n")
    script.chmod(0o755)
    monkeypatch.setattr(broker_jmx, "java_binary", lambda: str(script))
    monkeypatch.setattr(broker_jmx, "kafka_libs", lambda version: tmp_path)
    monkeypatch.setattr(broker_jmx, "java_classpath", lambda version: str(tmp_path / "*"))


BLOCK = "time\\t1000\\nkafka.server:type=ReplicaManager,name=LeaderCount:Value\\t2\\n"


def test_a_broker_without_a_jmx_port_is_left_out_and_none_at_all_is_an_error(tmp_path, monkeypatch):
    _java(monkeypatch, tmp_path, "")
    with pytest.raises(RunError, match="no broker of the target has a JMX port"):
        BrokerJmxMonitor(PLAN, RunDir(tmp_path)).prepare(_cluster(None))


def test_prepare_waits_for_the_first_sample_of_the_brokers_mbeans(tmp_path, monkeypatch):
    _java(monkeypatch, tmp_path, f"print('{BLOCK}', end='', flush=True); time.sleep(30)")
    monitor = BrokerJmxMonitor(PLAN, RunDir(tmp_path))
    monitor.prepare(_cluster("127.0.0.1:9999"))
    try:
        assert [s.complete for s in monitor._samplers] == [True]
    finally:
        monitor.stop()
    assert not monitor.poll()


def test_an_exited_jmxtool_is_started_again_no_sooner_than_the_restart_delay(tmp_path, monkeypatch):
    _java(monkeypatch, tmp_path, f"print('{BLOCK}', end='')")  # then exits, like one whose broker went away
    monkeypatch.setattr(broker_jmx, "READY_TIMEOUT_S", 0.0)
    run = RunDir(tmp_path)
    monitor = BrokerJmxMonitor(PLAN, run)
    monitor.prepare(_cluster("127.0.0.1:9999", None))
    [sampler] = monitor._samplers
    sampler.process.wait(30)
    first = sampler.process
    assert monitor.poll() and sampler.process is first  # within RESTART_S: left alone
    monkeypatch.setattr(broker_jmx, "RESTART_S", 0.0)
    assert monitor.poll() and sampler.process is not first
    sampler.process.wait(30)
    monitor.stop()
    assert run.jmx_samples("0").read_text().count("time\t1000") == 2  # both runs appended


def test_a_jmxtool_that_found_only_the_jvms_mbeans_is_started_again(tmp_path, monkeypatch):
    # connected while the broker was still starting: two samples, and no broker MBean in them
    _java(monkeypatch, tmp_path, "print('time\\t1\\njava.lang:type=Memory:HeapMemoryUsage\\t1\\n' * 2, end='', flush=True); time.sleep(30)")
    monkeypatch.setattr(broker_jmx, "READY_TIMEOUT_S", 0.0)
    monitor = BrokerJmxMonitor(PLAN, RunDir(tmp_path))
    monitor.prepare(_cluster("127.0.0.1:9999"))
    [sampler] = monitor._samplers
    first = sampler.process
    try:
        monkeypatch.setattr(broker_jmx, "RESTART_S", 0.0)
        for _ in range(100):  # until the fake has written its two samples
            monitor.poll()
            if sampler.process is not first:
                break
            time.sleep(0.1)
        assert sampler.process is not first and first.poll() is not None
    finally:
        monitor.stop()
