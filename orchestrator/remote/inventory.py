"""Plan ▶ Ansible inventory. Pure: the same plan and state directory always give the same inventory.

Groups: ``kafka`` (every KRaft node), ``brokers``, ``controllers`` (the quorum voters), ``agents``,
``monitors`` (every broker host: iostat runs there) and ``host_monitors`` (broker and agent hosts:
the host sampler runs there). KRaft roles per host:
- mode ``combined``: hosts with the controller role are the voters; when no host has it, every
  broker is also a controller (``process.roles=broker,controller``);
- mode ``separate``: controllers and brokers are different hosts, one process each.
Node ids are the hosts' ``node_id`` or, when not given, 1, 2, ... in inventory order.
"""

from __future__ import annotations

import shlex
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cluster import kraft_cluster_id
from orchestrator.plan.models import Host, Plan, Provision

DEFAULT_REMOTE_HOME = "{{ ansible_env.HOME }}/orchestrate"


@dataclass(frozen=True)
class KafkaNode:
    host: Host
    node_id: int
    process_roles: tuple[str, ...]
    home: str

    @property
    def is_broker(self) -> bool:
        return "broker" in self.process_roles

    @property
    def is_controller(self) -> bool:
        return "controller" in self.process_roles

    @property
    def bootstrap(self) -> str:
        return f"{self.host.address}:{self.host.kafka_port}"


@dataclass(frozen=True)
class Layout:
    """Who runs what: the KRaft nodes, the agents, and the cluster-wide identity."""

    nodes: tuple[KafkaNode, ...]
    agents: tuple[Host, ...]
    cluster_id: str

    @property
    def brokers(self) -> tuple[KafkaNode, ...]:
        return tuple(n for n in self.nodes if n.is_broker)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(n.bootstrap for n in self.brokers)

    @property
    def voters(self) -> str:
        return ",".join(f"{n.node_id}@{n.host.address}:{n.host.controller_port}"
                        for n in self.nodes if n.is_controller)

    def node(self, host_name: str) -> KafkaNode | None:
        return next((n for n in self.nodes if n.host.name == host_name), None)


class LayoutError(ValueError):
    """The inventory cannot form a cluster; callers turn it into a PlanError."""


def cluster_id(plan_name: str) -> str:
    """A stable KRaft cluster id derived from the plan name (the same plan, the same cluster)."""
    return kraft_cluster_id(lambda attempt: uuid.uuid5(
        uuid.NAMESPACE_URL, f"orchestrate:{plan_name}" + (f"#{attempt}" if attempt else "")).bytes)


def host_home(host: Host, plan_name: str, state_dir: Path) -> str:
    if host.data_dir:
        return host.data_dir
    if host.connection == "local":
        return str(state_dir / "hosts" / host.name)
    return f"{DEFAULT_REMOTE_HOME}/{plan_name}/{host.name}"


def layout(plan: Plan, state_dir: Path) -> Layout:
    hosts = plan.inventory.hosts if plan.inventory else []
    mode = plan.provision.mode if plan.provision else "combined"
    brokers = [h for h in hosts if "broker" in h.roles]
    if not brokers and plan.target.kind == "provisioned":  # an existing cluster may be reached without its hosts
        raise LayoutError("the inventory names no host with role 'broker'")
    controllers = [h for h in hosts if "controller" in h.roles]
    both = [h.name for h in controllers if "broker" in h.roles]
    if mode == "separate" and both:
        raise LayoutError(f"mode 'separate' runs controllers apart from brokers, but {', '.join(both)} have both roles")
    voters = {h.name for h in (controllers or brokers)}
    kafka_hosts = [h for h in hosts if "broker" in h.roles or h.name in voters]
    nodes = []
    for index, host in enumerate(kafka_hosts, start=1):
        roles = tuple(r for r in ("broker", "controller")
                      if (r == "broker" and "broker" in host.roles) or (r == "controller" and host.name in voters))
        nodes.append(KafkaNode(host, host.node_id if host.node_id is not None else index, roles,
                               host_home(host, plan.metadata.name, state_dir)))
    agents = tuple(h for h in hosts if "agent" in h.roles)
    return Layout(tuple(nodes), agents, cluster_id(plan.metadata.name))


def _connection_vars(host: Host, plan_dir: Path, state_dir: Path) -> dict[str, object]:
    if host.connection == "local":
        # the controller's own interpreter: the system one may lack modules Ansible needs
        return {"ansible_connection": "local", "ansible_host": host.address,
                "ansible_python_interpreter": sys.executable}
    out: dict[str, object] = {
        "ansible_connection": "ssh", "ansible_host": host.address, "ansible_port": host.port,
        "ansible_python_interpreter": host.python,
        "ansible_ssh_common_args": " ".join(_ssh_options(state_dir)),
    }
    if host.user:
        out["ansible_user"] = host.user
    if host.ssh_key:
        out["ansible_ssh_private_key_file"] = _ssh_key(host, plan_dir)
    return out


def _ssh_options(state_dir: Path) -> list[str]:
    # trust on first use, recorded per plan: never touches the user's own known_hosts
    return ["-o", f"UserKnownHostsFile={state_dir / 'known_hosts'}", "-o", "StrictHostKeyChecking=accept-new",
            "-o", "ConnectTimeout=10"]


def _ssh_key(host: Host, plan_dir: Path) -> str:
    return str((plan_dir / host.ssh_key).expanduser()) if host.ssh_key else ""


def host_command(host: Host, plan_dir: Path, state_dir: Path, argv: list[str]) -> list[str]:
    """``argv`` run on ``host`` the way Ansible reaches it: as is for connection local, else over one
    ssh session with the inventory's address, port, user, key and known-hosts file (non-interactive;
    a dead peer is noticed within about 15 s)."""
    if host.connection == "local":
        return argv
    ssh = ["ssh", "-n", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
           *_ssh_options(state_dir), "-p", str(host.port)]
    if host.user:
        ssh += ["-l", host.user]
    if host.ssh_key:
        ssh += ["-i", _ssh_key(host, plan_dir)]
    return [*ssh, host.address, shlex.join(argv)]


def node_log_dirs(node: KafkaNode, provision: Provision) -> list[str]:
    """The node's log.dirs: one subdirectory per node on each of the plan's disks, else under its home."""
    return [f"{disk.rstrip('/')}/kafka-{node.node_id}" for disk in provision.log_dirs] or [f"{node.home}/logs"]


def _kafka_vars(node: KafkaNode, provision: Provision) -> dict[str, object]:
    host = node.host
    log_dirs = node_log_dirs(node, provision)
    out: dict[str, object] = {
        "kafka_node_id": node.node_id, "kafka_process_roles": ",".join(node.process_roles),
        "kafka_listen_address": host.address, "kafka_port": host.kafka_port,
        "kafka_controller_port": host.controller_port, "kafka_home": f"{node.home}/kafka",
        "kafka_log_dirs": log_dirs, "kafka_rack": host.rack or "",
    }
    if host.connection == "local":
        # several nodes share this machine: no systemd units, no host-wide kernel settings per node
        out["kafka_supervisor"] = "process"
    return out


def jmx_port(plan: Plan, node: KafkaNode) -> int | None:
    """The node's JMX port when ``monitors.jmx`` is enabled: the plan's port, plus the node id on
    a machine that runs several nodes (connection local)."""
    jmx = plan.monitors.jmx
    if not jmx.enabled:
        return None
    return jmx.port + node.node_id if node.host.connection == "local" else jmx.port


def cluster_vars(plan: Plan, lay: Layout) -> dict[str, object]:
    provision = plan.provision or Provision()
    out: dict[str, object] = {
        "kafka_version": provision.kafka_version, "kafka_install_source": provision.install_source,
        "kafka_heap_mb": max(provision.heap // 1024**2, 128), "kafka_properties": dict(provision.properties),
        "kafka_cluster_id": lay.cluster_id, "kafka_voters": lay.voters, "kafka_os_tuning": provision.os_tuning,
    }
    if provision.tarball_url:
        out["kafka_tarball_url"] = provision.tarball_url
    return out


def ansible_inventory(plan: Plan, plan_dir: Path, state_dir: Path) -> dict[str, object]:
    """The YAML inventory (as data) for the plan's hosts, with every per-host variable the roles use."""
    lay = layout(plan, state_dir)
    provision = plan.provision or Provision()
    hosts: dict[str, dict[str, object]] = {}
    for host in plan.inventory.hosts if plan.inventory else []:
        vars_ = _connection_vars(host, plan_dir, state_dir)
        node = lay.node(host.name)
        if node is not None:
            vars_.update(_kafka_vars(node, provision))
            vars_["kafka_jmx_port"] = jmx_port(plan, node) or 0
        if "agent" in host.roles:
            vars_["agent_home"] = f"{host_home(host, plan.metadata.name, state_dir)}/agent"
        vars_["monitor_home"] = f"{host_home(host, plan.metadata.name, state_dir)}/monitor"
        vars_["monitor_iostat"] = "broker" in host.roles  # agents get the host sampler only
        hosts[host.name] = vars_

    def group(names: list[str]) -> dict[str, object]:
        return {"hosts": {name: {} for name in names}}

    return {"all": {
        "hosts": hosts,
        "vars": cluster_vars(plan, lay),
        "children": {
            "kafka": group([n.host.name for n in lay.nodes]),
            "brokers": group([n.host.name for n in lay.brokers]),
            "controllers": group([n.host.name for n in lay.nodes if n.is_controller]),
            "agents": group([h.name for h in lay.agents]),
            "monitors": group([n.host.name for n in lay.brokers]),
            # the host sampler runs on every host that carries the run's work: brokers and agents
            "host_monitors": group(list(dict.fromkeys([*(n.host.name for n in lay.brokers),
                                                       *(h.name for h in lay.agents)]))),
        },
    }}
