"""JMeter's distributed mode for a workload with ``agents``: one jmeter-server per agent, this
machine the controller.

Every server runs the whole thread group, so the plan's threads and rate (totals) are divided
between the servers. Ports are fixed so a firewall can be opened for them, and distinct per address
so several servers (and controllers) can share one, as on 127.0.0.1 in tests: the j-th server on an
address (counted over all distributed workloads of the plan) takes RMI registry port
(``server_port``) ``SERVER_PORT + 2j`` and ``server.rmi.localport`` the next one, so a lone server
uses JMeter's usual 1099; the k-th distributed workload's controller takes ``client.rmi.localport``
``SERVER_PORT - 3(k+1)`` and the two after it (JMeter opens up to three). RMI runs without SSL
(``server.rmi.ssl.disable``): the lab network must be trusted (docs/jmeter.md says how to use
JMeter's RMI keystore instead).
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.errors import EngineError
from orchestrator.plan.models import Plan, Workload
from orchestrator.render.taurus import TaurusConfig

SERVER_PORT = 1099
CLIENT_PORTS = 3


@dataclass(frozen=True)
class JmeterServer:
    host: str  # inventory host name
    address: str  # the agent's inventory address: the server binds and answers there
    port: int  # RMI registry (server_port)
    rmi_port: int  # server.rmi.localport

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(frozen=True)
class Distribution:
    servers: tuple[JmeterServer, ...]
    controller_address: str  # where the servers call the controller back
    client_port: int

    def share(self, total: int) -> int:
        """One server's part of ``total`` threads (at least one each)."""
        return math.ceil(total / len(self.servers))

    def client_properties(self) -> dict[str, str]:
        return {"server.rmi.ssl.disable": "true", "client.rmi.localport": str(self.client_port)}

    def system_properties(self) -> dict[str, str]:
        return {"java.rmi.server.hostname": self.controller_address}


def distribution(plan: Plan, workload: Workload) -> Distribution | None:
    """The servers of ``workload`` (None without agents), in the order it names its agents. Ports are
    counted over all distributed workloads of the plan, in plan order, as they all run at once."""
    if not workload.agents or plan.inventory is None:
        return None
    addresses = {h.name: h.address for h in plan.inventory.hosts}
    taken: dict[str, int] = {}
    distributed = [w for w in plan.workloads if w.engine == "jmeter" and w.agents]
    for k, candidate in enumerate(distributed):
        servers = []
        for name in candidate.agents:
            address = addresses[name]
            index = taken.get(address, 0)
            taken[address] = index + 1
            servers.append(JmeterServer(name, address, SERVER_PORT + 2 * index, SERVER_PORT + 2 * index + 1))
        if candidate.name == workload.name:
            client_port = SERVER_PORT - CLIENT_PORTS * (k + 1)
            return Distribution(tuple(servers), controller_address(servers[0].address), client_port)
    return None


def distributed_config(config: TaurusConfig, dist: Distribution) -> TaurusConfig:
    """``config`` run on ``dist``'s servers: a script's thread count (``concurrency``) becomes per server."""
    load = dict(config.load)
    if isinstance(load.get("concurrency"), int):
        load["concurrency"] = dist.share(load["concurrency"])
    return replace(config, distributed=tuple(s.endpoint for s in dist.servers), load=load,
                   properties={**config.properties, **dist.client_properties()},
                   system_properties={**config.system_properties, **dist.system_properties()})


def controller_address(agent: str) -> str:
    """This machine's address on the route to ``agent``: connecting a UDP socket picks the source
    address without sending anything."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((agent, 9))
        except OSError as err:
            raise EngineError(f"agent {agent}: no route from this machine for the JMeter servers to call back: {err}") from None
        return probe.getsockname()[0]


def plugin_jars(home: Path, base: Path) -> list[Path]:
    """The jars a workload's JMeter overlay (orchestrator.jmeter.script) adds to the shared JMeter."""
    if home == base:
        return []
    added = []
    for sub in ("lib", "lib/ext"):
        shared = {p.name for p in (base / sub).glob("*.jar")}
        added += [p.resolve() for p in sorted((home / sub).glob("*.jar")) if p.name not in shared]
    return added
