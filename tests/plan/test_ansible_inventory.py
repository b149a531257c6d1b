"""An existing Ansible inventory (inventory.path) read into the plan's hosts, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from orchestrator.errors import InputError
from orchestrator.pipeline import write_resolved_plan
from orchestrator.plan.ansible_inventory import read_inventory
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.remote.inventory import ansible_inventory

from .sample import BASE

INI = """\
[brokers]
b1 ansible_host=10.0.0.11 node_id=7 rack=1 data_dir=/data/o
b2 ansible_host=10.0.0.12 ansible_user=ops ansible_port=2222 ansible_ssh_private_key_file=keys/lab

[controllers]
b1

[agents]
a1 ansible_connection=local kafka_port=19092

[web]
w1 ansible_host=10.0.0.99

[brokers:vars]
controller_port=19093
ansible_python_interpreter=/opt/py/bin/python3
"""

YAML = """\
all:
  children:
    kafka:
      children:
        broker:
          hosts:
            y1: {ansible_host: 10.1.0.1, kafka_port: 29092}
        controller:
          hosts:
            y2: {}
    agent:
      hosts:
        y1: {}
"""

PROVISIONED = BASE.replace("metadata:", "target:\n  kind: provisioned\nprovision: {}\nmetadata:")
FILE_INV = "inventory:\n  path: hosts.ini\n"  # line 20 of PROVISIONED + FILE_INV: 'path' on 21


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "lab").write_text("not a real key\n")
    path = tmp_path / "hosts.ini"
    path.write_text(INI)
    return path


def test_ini_groups_give_roles_and_other_hosts_are_ignored(ini: Path) -> None:
    hosts = read_inventory(ini)
    assert [(h.name, h.roles) for h in hosts] == [("b1", ["broker", "controller"]), ("b2", ["broker"]), ("a1", ["agent"])]


def test_ini_hostvars_map_to_host_fields(ini: Path) -> None:
    b1, b2, a1 = read_inventory(ini)
    assert (b1.address, b1.node_id, b1.rack, b1.data_dir, b1.connection) == ("10.0.0.11", 7, "1", "/data/o", "ssh")
    assert (b2.user, b2.port, b2.ssh_key) == ("ops", 2222, str(ini.parent / "keys" / "lab"))
    assert (b1.controller_port, b2.python) == (19093, "/opt/py/bin/python3")  # [brokers:vars] strings
    assert (a1.connection, a1.kafka_port, a1.address) == ("local", 19092, "a1")


def test_yaml_child_groups_and_singular_group_names(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(YAML)
    hosts = read_inventory(path)
    assert [(h.name, h.roles, h.address, h.kafka_port) for h in hosts] == [
        ("y1", ["broker", "agent"], "10.1.0.1", 29092), ("y2", ["controller"], "y2", 9092)]


def test_toml_inventory(tmp_path: Path) -> None:
    path = tmp_path / "hosts.toml"
    path.write_text('[brokers.hosts.t1]\nansible_host = "10.2.0.1"\nkafka_port = 19092\n')
    assert [(h.name, h.address, h.kafka_port) for h in read_inventory(path)] == [("t1", "10.2.0.1", 19092)]


def test_inventory_directory_with_group_vars(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "brokers.yml").write_text("kafka_port: 19999\n")
    (tmp_path / "hosts.ini").write_text("[brokers]\nd1\n")
    assert [(h.name, h.kafka_port) for h in read_inventory(tmp_path)] == [("d1", 19999)]


def test_plan_loads_hosts_from_the_file_and_keeps_the_path(write_plan: Callable[..., Path], ini: Path) -> None:
    plan = load_plan(write_plan(PROVISIONED + FILE_INV))
    assert plan.inventory is not None and plan.inventory.path == str(ini)
    assert [h.name for h in plan.inventory.hosts] == ["b1", "b2", "a1"]


def test_provisioning_inventory_comes_from_the_file_hosts(write_plan: Callable[..., Path], ini: Path) -> None:
    plan = load_plan(write_plan(PROVISIONED + FILE_INV))
    out = ansible_inventory(plan, ini.parent, ini.parent / "state")["all"]
    assert list(out["hosts"]) == ["b1", "b2", "a1"]
    assert out["hosts"]["b2"]["ansible_port"] == 2222 and out["hosts"]["b1"]["kafka_node_id"] == 7
    assert out["vars"]["kafka_voters"] == "7@10.0.0.11:19093"


def test_agents_are_checked_against_the_file_hosts(reject, ini: Path) -> None:
    text = PROVISIONED.replace("    rate: 1k/s\n", "    rate: 1k/s\n    agents: [b1]\n") + FILE_INV
    assert reject(text) == ["PLAN:13:14: workloads.0.agents.0: no inventory host 'b1' with role 'agent'"]


def test_resolved_plan_has_no_unmapped_variable_and_loads_again(write_plan: Callable[..., Path], ini: Path,
                                                                tmp_path: Path) -> None:
    ini.write_text(INI.replace("[brokers:vars]\n", "[brokers:vars]\ndb_password=s3cret-from-inventory\n"))
    plan = load_plan(write_plan(PROVISIONED + FILE_INV))
    resolved = tmp_path / "plan.resolved.yaml"
    write_resolved_plan(plan, resolved)
    assert "s3cret-from-inventory" not in resolved.read_text()
    assert Plan.model_validate(yaml.safe_load(resolved.read_text())) == plan


ERRORS = [
    pytest.param(INI.replace("node_id=7", "kafka_port=abc"),
                 "DIR/hosts.ini: host b1: kafka_port: Input should be a valid integer",
                 id="wrong-type"),
    pytest.param(INI.replace("b1 ansible_host", "b1 kafka_port ansible_host"),
                 "DIR/hosts.ini: Ansible cannot read this inventory: Failed to parse inventory: "
                 "Expected key=value host variable assignment, got: kafka_port", id="unparsable"),
    pytest.param("[web]\nw1\n", "DIR/hosts.ini: no host is in a group orchestrate reads roles from "
                 "(brokers, broker, controllers, controller, agents, agent)", id="no-role-host"),
    pytest.param(INI.replace("ansible_connection=local", "ansible_connection=docker"),
                 "DIR/hosts.ini: host a1: ansible_connection 'docker' is not supported: use ssh or local",
                 id="connection"),
    pytest.param(INI.replace("=keys/lab", "=nokey"),
                 "DIR/hosts.ini: host b2: ansible_ssh_private_key_file: Value error, no such file: DIR/nokey",
                 id="missing-key"),
]


@pytest.mark.parametrize(("inventory", "message"), ERRORS)
def test_inventory_errors_point_at_inventory_path(reject, ini: Path, inventory: str, message: str) -> None:
    ini.write_text(inventory)
    assert reject(PROVISIONED + FILE_INV) == [f"PLAN:21:9: inventory.path: {message}"]


def test_unparsable_yaml_inventory(reject, write_plan) -> None:
    write_plan(YAML.replace("{ansible_host: 10.1.0.1,", "{ansible_host: [10.1.0.1,"), name="hosts.yml")
    assert reject(PROVISIONED + "inventory:\n  path: hosts.yml\n") == [
        "PLAN:21:9: inventory.path: DIR/hosts.yml: Ansible cannot read this inventory: "
        "YAML parsing failed: Colons in unquoted values must be followed by a non-space character."]


def test_missing_inventory_file(reject) -> None:
    assert reject(PROVISIONED + FILE_INV) == ["PLAN:21:9: inventory.path: no such file: DIR/hosts.ini"]


def test_provisioned_inventory_without_a_broker(reject, write_plan) -> None:
    write_plan("[agents]\na1\n", name="hosts.ini")
    assert reject(PROVISIONED + FILE_INV) == [
        "PLAN:21:3: inventory.hosts: the inventory names no host with role 'broker'"]


@pytest.mark.parametrize("var", ["ansible_password", "ansible_become_password", "ansible_ssh_pass", "ansible_become_pass"])
def test_passwords_are_rejected_without_echoing_them(reject, write_plan, var: str) -> None:
    write_plan(INI.replace("[brokers:vars]\n", f"[brokers:vars]\n{var}=s3cret-from-inventory\n"), name="hosts.ini")
    (line,) = reject(PROVISIONED + FILE_INV)
    assert line.startswith(f"PLAN:21:9: inventory.path: DIR/hosts.ini: host b1: sets {var}; ")
    assert "use SSH keys" in line and "s3cret" not in line


def test_read_inventory_raises_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ini"
    path.write_text("")
    with pytest.raises(InputError, match=f"^{path}: no host is in a group"):
        read_inventory(path)
