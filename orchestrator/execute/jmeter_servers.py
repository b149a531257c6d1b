"""The jmeter-server processes of one distributed JMeter workload, driven through playbooks/jmeter.yml.

Client secrets the test reads from its environment reach the servers' environment the way they
reach native runners on agents (orchestrator.remote.secrets): typed in at the playbook's
private prompt, never in extra variables, ansible-runner's environment or its artifacts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.artifacts.bundles import jmeter_home_archive
from orchestrator.errors import EngineError
from orchestrator.render.distributed import Distribution
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.remote.secrets import read_secrets, secret_answers

READY_WAIT_S = 20  # one look at the servers waits this long at most on the agents
# The servers' own bound: Ansible's async wrapper kills a server that outlives it.
SERVERS_OUTLIVE_S = 900


@dataclass(frozen=True)
class ServerState:
    ready: bool
    alive: bool
    waited_s: float  # of the look's round trip, how long the agent waited for the server


class JmeterServers:
    def __init__(self, provisioner: HostPlaybooks, dist: Distribution, workload: str, run_id: str):
        self.provisioner, self.dist, self.workload, self.run_id = provisioner, dist, workload, run_id
        self.started = False

    def _vars(self, action: str, **extra: object) -> dict[str, object]:
        servers = {s.host: {"address": s.address, "port": s.port, "rmi_port": s.rmi_port} for s in self.dist.servers}
        # an extra var answers jmeter.yml's prompt for the client secrets, which only start reads
        return {"jmeter_action": action, "jmeter_run_id": self.run_id, "jmeter_workload": self.workload,
                "jmeter_servers": servers, "jmeter_secret_env": "{}", **extra}

    def start(self, home: Path, plugins: list[Path], secret_env: list[str], lifetime_s: float) -> None:
        """Starts one server per agent and returns once every one listens."""
        agents = {h.name for h in self.provisioner.layout().agents}
        named = [s.host for s in self.dist.servers]
        unknown = sorted(set(named) - agents)
        if unknown:
            raise EngineError(f"workload {self.workload}: {', '.join(unknown)} not in the inventory as agent hosts")
        if len(set(named)) != len(named):
            raise EngineError(f"workload {self.workload}: agents {', '.join(named)}: one JMeter server per agent, "
                              "so name each agent once")
        extravars, answers = secret_answers(
            self._vars("start", jmeter_archive=str(jmeter_home_archive(home)), jmeter_plugins=[str(p) for p in plugins],
                       jmeter_timeout=int(lifetime_s + SERVERS_OUTLIVE_S)),
            "jmeter_secret_env", read_secrets(secret_env))
        self.started = True
        self.provisioner.start("jmeter.yml", f"jmeter-{self.workload}-start", extravars, answers).wait()

    def states(self) -> dict[str, ServerState]:
        """Each server's state once it is ready or ended, or after at most ``READY_WAIT_S``."""
        polled = self.provisioner.run("jmeter.yml", f"jmeter-{self.workload}-ready",
                                      self._vars("ready", jmeter_ready_wait=READY_WAIT_S))
        out = {}
        for host, facts in polled.facts.items():
            lines = [str(line) for line in facts.get("jmeter_state", [])]
            waited = next((float(line.split()[1]) for line in lines if line.startswith("waited ")), 0.0)
            out[host] = ServerState(ready="ready" in lines, alive="alive" in lines, waited_s=waited)
        return out

    def go(self, start_at: float) -> None:
        self.provisioner.run("jmeter.yml", f"jmeter-{self.workload}-go", self._vars("go", jmeter_start_at=f"{start_at:.3f}"))

    def stop(self, fetch_dir: Path) -> None:
        """Stops what still runs and fetches every server's log to ``fetch_dir/<host>.log``."""
        if not self.started:
            return
        self.started = False
        fetch_dir.mkdir(parents=True, exist_ok=True)
        self.provisioner.run("jmeter.yml", f"jmeter-{self.workload}-stop",
                             self._vars("stop", jmeter_fetch_dir=str(fetch_dir)), tolerate_failures=True)

    def wait_ready(self, timeout_s: float, controller_running: Callable[[], bool]) -> float:
        """Waits until every server's test has a Kafka client up; returns what one playbook round trip
        costs beyond waiting. Raises when a server ended, the controller ended or time ran out."""
        deadline = time.monotonic() + timeout_s
        while True:
            began = time.monotonic()
            states = self.states()
            overhead = time.monotonic() - began - max((s.waited_s for s in states.values()), default=0.0)
            if len(states) == len(self.dist.servers) and all(s.ready for s in states.values()):
                return max(overhead, 0.0)
            dead = sorted(h for h, s in states.items() if not s.alive and not s.ready)
            if dead:
                raise EngineError(f"workload {self.workload}: jmeter-server ended on {', '.join(dead)} before a Kafka "
                                  "client was ready (see its log, fetched to raw/jmeter/<workload>/<host>.log)")
            if not controller_running():
                raise EngineError(f"workload {self.workload}: the JMeter controller ended before the servers' Kafka "
                                  "clients were ready")
            if time.monotonic() > deadline:
                raise EngineError(f"workload {self.workload}: the JMeter servers had no Kafka client ready within "
                                  f"{timeout_s:.0f}s")
