from __future__ import annotations

import base64
import sys
import uuid
from pathlib import Path

import pytest

from orchestrator.plan.models import Plan
from orchestrator.remote.inventory import LayoutError, ansible_inventory, cluster_id, host_command, layout

STATE = Path("/state")


def make_plan(hosts: list[dict], **provision: object) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "lab"}, "target": {"kind": "provisioned"},
        "inventory": {"hosts": hosts}, "provision": provision,
        "topics": [{"name": "t"}], "workloads": [{"name": "p", "kind": "producer", "topic": "t"}],
        "phases": [{"name": "s", "kind": "steady", "duration": "5s"}],
    })



def brokers(count: int) -> list[dict]:
    return [{"name": f"b{i}", "address": f"10.0.0.{i}", "roles": ["broker"]} for i in range(1, count + 1)]


def test_combined_mode_makes_every_broker_a_voter() -> None:
    lay = layout(make_plan(brokers(3)), STATE)
    assert [(n.node_id, n.process_roles) for n in lay.nodes] == [(i, ("broker", "controller")) for i in (1, 2, 3)]
    assert lay.voters == "1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093"


def test_an_existing_cluster_may_have_an_inventory_of_agents_only() -> None:
    plan = Plan.model_validate({
        "metadata": {"name": "lab"}, "target": {"kind": "existing", "bootstrap_servers": ["10.0.0.1:9092"]},
        "inventory": {"hosts": [{"name": "a1", "address": "10.0.0.7", "roles": ["agent"]}]},
        "topics": [{"name": "t"}], "workloads": [{"name": "p", "kind": "producer", "topic": "t", "agents": ["a1"]}],
        "phases": [{"name": "s", "kind": "steady", "duration": "5s"}],
    })
    lay = layout(plan, STATE)
    assert (lay.nodes, [a.name for a in lay.agents]) == ((), ["a1"])
    assert ansible_inventory(plan, Path("/plans"), STATE)["all"]["children"]["agents"] == {"hosts": {"a1": {}}}


def test_controller_hosts_are_the_only_voters_when_named() -> None:
    hosts = [*brokers(2), {"name": "c1", "address": "10.0.0.9", "roles": ["controller"]}]
    lay = layout(make_plan(hosts), STATE)
    assert [(n.host.name, n.process_roles) for n in lay.nodes] == [
        ("b1", ("broker",)), ("b2", ("broker",)), ("c1", ("controller",))]
    assert lay.voters == "3@10.0.0.9:9093"


def test_separate_mode_rejects_a_host_with_both_roles() -> None:
    hosts = [{"name": "b1", "address": "10.0.0.1", "roles": ["broker", "controller"]}]
    with pytest.raises(LayoutError, match="b1 have both roles"):
        layout(make_plan(hosts, mode="separate"), STATE)


def test_explicit_node_ids_are_kept() -> None:
    hosts = [{**b, "node_id": 10 + i} for i, b in enumerate(brokers(2))]
    assert [n.node_id for n in layout(make_plan(hosts), STATE).nodes] == [10, 11]


def test_bootstrap_servers_list_brokers_only_with_their_ports() -> None:
    hosts = [{**brokers(1)[0], "kafka_port": 19092}, {"name": "c1", "address": "10.0.0.9", "roles": ["controller"]}]
    assert layout(make_plan(hosts), STATE).bootstrap_servers == "10.0.0.1:19092"


def test_cluster_id_is_stable_base64_of_16_bytes() -> None:
    assert cluster_id("lab") == cluster_id("lab") != cluster_id("other")
    assert len(cluster_id("lab")) == 22


def test_groups_hold_kafka_nodes_brokers_agents_and_monitors() -> None:
    hosts = [*brokers(2), {"name": "a1", "address": "10.0.0.8", "roles": ["agent"]}]
    groups = ansible_inventory(make_plan(hosts), Path("/plans"), STATE)["all"]["children"]
    assert {g: sorted(v["hosts"]) for g, v in groups.items()} == {
        "kafka": ["b1", "b2"], "brokers": ["b1", "b2"], "controllers": ["b1", "b2"], "agents": ["a1"],
        "monitors": ["b1", "b2"], "host_monitors": ["a1", "b1", "b2"]}


def test_a_command_reaches_an_ssh_host_as_ansible_does_and_a_local_one_directly() -> None:
    ssh_host = make_plan([{**brokers(1)[0], "user": "ops", "ssh_key": "keys/lab", "port": 2222}]).inventory.hosts[0]
    argv = host_command(ssh_host, Path("/plans"), STATE, ["/opt/py", "/run dir/s.py", "a=b=0"])
    assert argv[0] == "ssh" and "BatchMode=yes" in argv and "UserKnownHostsFile=/state/known_hosts" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-l") + 1] == "ops"
    assert argv[argv.index("-i") + 1] == "/plans/keys/lab"
    assert argv[-2:] == [ssh_host.address, "/opt/py '/run dir/s.py' a=b=0"]  # one word for the remote shell
    local_host = make_plan([{**brokers(1)[0], "connection": "local"}]).inventory.hosts[0]
    assert host_command(local_host, Path("/plans"), STATE, ["/opt/py", "x"]) == ["/opt/py", "x"]


def test_local_hosts_use_this_python_and_a_process_supervisor() -> None:
    hosts = [{**brokers(1)[0], "connection": "local"}]
    vars_ = ansible_inventory(make_plan(hosts), Path("/plans"), STATE)["all"]["hosts"]["b1"]
    assert vars_["ansible_python_interpreter"] == sys.executable
    assert vars_["kafka_supervisor"] == "process"
    assert vars_["kafka_home"] == "/state/hosts/b1/kafka"


def test_ssh_hosts_get_key_relative_to_the_plan_and_a_per_plan_known_hosts() -> None:
    hosts = [{**brokers(1)[0], "user": "ops", "ssh_key": "keys/lab", "port": 2222}]
    vars_ = ansible_inventory(make_plan(hosts), Path("/plans"), STATE)["all"]["hosts"]["b1"]
    assert (vars_["ansible_user"], vars_["ansible_port"]) == ("ops", 2222)
    assert vars_["ansible_ssh_private_key_file"] == "/plans/keys/lab"
    assert "UserKnownHostsFile=/state/known_hosts" in vars_["ansible_ssh_common_args"]
    assert vars_["ansible_python_interpreter"] == "/usr/bin/python3"


def test_log_dirs_get_one_subdirectory_per_node() -> None:
    vars_ = ansible_inventory(make_plan(brokers(2), log_dirs=["/disk1", "/disk2/"]), Path("/p"), STATE)["all"]["hosts"]
    assert vars_["b2"]["kafka_log_dirs"] == ["/disk1/kafka-2", "/disk2/kafka-2"]


def test_cluster_vars_carry_heap_properties_and_install_source() -> None:
    plan = make_plan(brokers(1), heap="2GiB", properties={"num.io.threads": 16}, install_source="tarball",
                     tarball_url="https://mirror.example/kafka.tgz")
    vars_ = ansible_inventory(plan, Path("/p"), STATE)["all"]["vars"]
    assert (vars_["kafka_heap_mb"], vars_["kafka_properties"]) == (2048, {"num.io.threads": 16})
    assert (vars_["kafka_install_source"], vars_["kafka_tarball_url"]) == ("tarball", "https://mirror.example/kafka.tgz")


def test_jmx_ports_when_the_jmx_monitor_is_on_one_per_node_on_a_shared_machine() -> None:
    from orchestrator.remote.inventory import jmx_port

    hosts = [brokers(1)[0], {"name": "l2", "address": "127.0.0.1", "roles": ["broker"], "connection": "local",
                             "kafka_port": 19192, "controller_port": 19193}]
    off = make_plan(hosts)
    on = off.model_copy(update={"monitors": off.monitors.model_copy(update={"jmx": off.monitors.jmx.model_copy(
        update={"enabled": True, "port": 9990})})})
    assert {h: v["kafka_jmx_port"] for h, v in ansible_inventory(off, Path("/p"), STATE)["all"]["hosts"].items()} == {"b1": 0, "l2": 0}
    assert {h: v["kafka_jmx_port"] for h, v in ansible_inventory(on, Path("/p"), STATE)["all"]["hosts"].items()} == {"b1": 9990, "l2": 9992}
    assert [jmx_port(on, n) for n in layout(on, STATE).brokers] == [9990, 9992]


@pytest.mark.parametrize(("port", "flags"), [(0, False), (9990, True)])
def test_the_service_script_opens_jmx_on_the_listen_address_only_when_asked(port: int, flags: bool) -> None:
    import jinja2

    template = Path(__file__).resolve().parents[2] / "playbooks" / "roles" / "kafka" / "templates" / "kafka-service.sh.j2"
    script = jinja2.Template(template.read_text()).render(
        kafka_jmx_port=port, kafka_listen_address="10.0.0.1", kafka_home="/h", kafka_install_dir="/i",
        kafka_heap_mb=512, kafka_nofile=1000, kafka_stop_timeout=5, kafka_cluster_id="x")
    assert ("-Dcom.sun.management.jmxremote.host=10.0.0.1 -Dcom.sun.management.jmxremote.port=9990" in script) == flags
    assert "exec $JAVA $JVM" in script


def test_a_cluster_id_never_starts_with_a_dash() -> None:
    # this plan name's first derivation starts with '-', which kafka-storage reads as an option
    assert base64.urlsafe_b64encode(uuid.uuid5(uuid.NAMESPACE_URL, "orchestrate:provision-ssh-a9b2c2").bytes).startswith(b"-")
    assert not cluster_id("provision-ssh-a9b2c2").startswith("-") and len(cluster_id("provision-ssh-a9b2c2")) == 22
    assert cluster_id("provision-ssh-a9b2c2") == cluster_id("provision-ssh-a9b2c2")
