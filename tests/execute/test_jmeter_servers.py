import tarfile
from pathlib import Path

import pytest

from orchestrator.errors import EngineError
from orchestrator.render.distributed import Distribution, JmeterServer
from orchestrator.artifacts.bundles import jmeter_home_archive as home_archive
from orchestrator.execute.jmeter_servers import JmeterServers
from orchestrator.plan.models import Plan
from orchestrator.remote.playbooks import HostPlaybooks


def test_home_archive_holds_the_home_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = tmp_path / "5.6.3"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "ApacheJMeter.jar").write_bytes(b"jar")
    (home / ".complete").write_text("5.6.3\n")
    archive = home_archive(home)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == [".complete", "bin", "bin/ApacheJMeter.jar"]
    (home / "bin" / "ApacheJMeter.jar").write_bytes(b"changed")
    assert home_archive(home) == archive and archive.stat().st_size > 0


def _servers(tmp_path: Path, hosts: list[str]) -> JmeterServers:
    plan = Plan.model_validate({
        "metadata": {"name": "servers"},
        "target": {"kind": "existing", "bootstrap_servers": ["127.0.0.1:9092"]},
        "inventory": {"hosts": [{"name": "k", "address": "127.0.0.1", "roles": ["broker"], "connection": "local"},
                                {"name": "a1", "address": "127.0.0.1", "roles": ["agent"], "connection": "local"}]},
        "topics": [{"name": "t"}],
        "workloads": [{"name": "p", "kind": "producer", "engine": "jmeter", "topic": "t", "agents": ["a1"]}],
        "phases": [{"name": "h", "kind": "steady", "duration": "1s"}],
    })
    dist = Distribution(tuple(JmeterServer(h, "127.0.0.1", 1099 + 2 * i, 1100 + 2 * i) for i, h in enumerate(hosts)),
                        "127.0.0.1", 1096)
    return JmeterServers(HostPlaybooks(plan, tmp_path / "plan.yaml", tmp_path / "ansible"), dist, "p", "run-1")


def test_an_agent_named_twice_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.raises(EngineError, match="one JMeter server per agent, so name each agent once"):
        _servers(tmp_path, ["a1", "a1"]).start(tmp_path, [], [], 10)
    assert not (tmp_path / "ansible").exists()


def test_a_host_that_is_no_agent_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.raises(EngineError, match="k not in the inventory as agent hosts"):
        _servers(tmp_path, ["k"]).start(tmp_path, [], [], 10)


def test_stop_before_start_runs_nothing(tmp_path):
    _servers(tmp_path, ["a1"]).stop(tmp_path / "fetched")
    assert not (tmp_path / "fetched").exists() and not (tmp_path / "ansible").exists()
