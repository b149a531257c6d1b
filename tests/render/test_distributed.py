import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from orchestrator.render.distributed import controller_address, distributed_config, distribution, plugin_jars
from orchestrator.plan.models import Plan
from orchestrator.render.jmx import render_kafka_jmx, schedule
from orchestrator.render.taurus import TaurusConfig
from orchestrator.render.workload import render_jmeter_workload


def _plan(agents: list[str], addresses: dict[str, str], **workload: object) -> Plan:
    hosts = [{"name": "k", "address": "127.0.0.1", "roles": ["broker"], "connection": "local"}]
    hosts += [{"name": n, "address": a, "roles": ["agent"], "connection": "local", "data_dir": f"/tmp/{n}"}
              for n, a in addresses.items()]
    return Plan.model_validate({
        "metadata": {"name": "dist"},
        "target": {"kind": "existing", "bootstrap_servers": ["127.0.0.1:9092"]},
        "inventory": {"hosts": hosts},
        "topics": [{"name": "t"}],
        "workloads": [{"name": "p", "kind": "producer", "engine": "jmeter", "topic": "t", "rate": "1k/s",
                       "instances": 3, "agents": agents, **workload}],
        "phases": [{"name": "hold", "kind": "steady", "duration": "10s"},
                   {"name": "up", "kind": "ramp", "duration": "10s", "from": "1k/s", "to": "3k/s"}],
    })


def test_no_agents_no_distribution():
    plan = _plan([], {"a1": "127.0.0.1"})
    assert distribution(plan, plan.workloads[0]) is None


def test_servers_sharing_an_address_get_distinct_ports():
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.1"})
    dist = distribution(plan, plan.workloads[0])
    assert [(s.host, s.port, s.rmi_port) for s in dist.servers] == [("a1", 1099, 1100), ("a2", 1101, 1102)]
    assert [s.endpoint for s in dist.servers] == ["127.0.0.1:1099", "127.0.0.1:1101"]
    assert dist.client_port == 1096


def test_workloads_on_the_same_agents_get_their_own_ports():
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.1"})
    second = plan.workloads[0].model_copy(update={"name": "p2", "agents": ["a2"]})
    plan = plan.model_copy(update={"workloads": [plan.workloads[0], second]})
    dist = distribution(plan, second)
    assert [(s.host, s.port, s.rmi_port) for s in dist.servers] == [("a2", 1103, 1104)]
    assert dist.client_port == 1093


def test_a_lone_server_on_its_address_uses_jmeters_usual_registry_port():
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.2"})
    assert [s.port for s in distribution(plan, plan.workloads[0]).servers] == [1099, 1099]


def test_controller_address_on_the_loopback_route():
    assert controller_address("127.0.0.1") == "127.0.0.1"


def test_client_side_properties():
    plan = _plan(["a1"], {"a1": "127.0.0.1"})
    dist = distribution(plan, plan.workloads[0])
    assert dist.client_properties() == {"server.rmi.ssl.disable": "true", "client.rmi.localport": "1096"}
    assert dist.system_properties() == {"java.rmi.server.hostname": "127.0.0.1"}


def test_script_concurrency_becomes_per_server():
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.1"})
    config = TaurusConfig(workload="s", script=Path("/s.jmx"), artifacts_dir=Path("/a"), jmeter=Path("/j/bin/jmeter"),
                          load={"concurrency": 5, "hold-for": "10s"})
    out = distributed_config(config, distribution(plan, plan.workloads[0]))
    assert out.load == {"concurrency": 3, "hold-for": "10s"}
    assert out.distributed == ("127.0.0.1:1099", "127.0.0.1:1101")


def test_generated_jmx_gets_each_servers_share_of_threads_rate_and_messages():
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.1"}, max_messages=1001)
    jmx = render_kafka_jmx(plan, plan.workloads[0], "127.0.0.1:9092", plan.target.security, servers=2)
    props = {p.get("name"): p.text for p in ET.fromstring(jmx.jmx).find(".//ThreadGroup").iter("stringProp")}
    assert props["ThreadGroup.num_threads"] == "2"  # 3 threads over 2 servers, rounded up
    assert jmx.properties["orchestrate.max_per_thread"] == "251"  # 1001 messages over 2 x 2 threads, rounded up
    assert jmx.properties["orchestrate.schedule"] == schedule(plan, plan.workloads[0], servers=2) == "10:500:500;10:500:1500"


def test_a_workload_with_agents_renders_a_distributed_taurus_yaml(tmp_path):
    plan = _plan(["a1", "a2"], {"a1": "127.0.0.1", "a2": "127.0.0.1"})
    test = render_jmeter_workload(plan, plan.workloads[0], tmp_path / "plan.yaml", "127.0.0.1:9092", tmp_path / "out",
                                  tmp_path / "raw")
    doc = yaml.safe_load(test.taurus_file.read_text())
    assert doc["execution"][0]["distributed"] == ["127.0.0.1:1099", "127.0.0.1:1101"]
    assert doc["modules"]["jmeter"]["system-properties"] == {"java.rmi.server.hostname": "127.0.0.1"}
    properties = doc["scenarios"]["p"]["properties"]
    assert properties["server.rmi.ssl.disable"] == "true" and properties["client.rmi.localport"] == "1096"
    assert properties["orchestrate.schedule"] == "10:500:500;10:500:1500"


@pytest.mark.parametrize("sub", ["lib", "lib/ext"])
def test_plugin_jars_are_what_an_overlay_adds(tmp_path, sub):
    base, overlay, plugin = tmp_path / "base", tmp_path / "overlay", tmp_path / "plugin.jar"
    for home in (base, overlay):
        (home / "lib" / "ext").mkdir(parents=True)
        (home / sub / "shared.jar").write_bytes(b"")
    plugin.write_bytes(b"")
    (overlay / sub / "plugin.jar").symlink_to(plugin)
    assert plugin_jars(overlay, base) == [plugin]
    assert plugin_jars(base, base) == []
