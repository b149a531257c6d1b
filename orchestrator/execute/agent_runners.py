"""The native workload's transport to inventory agent hosts, through the agent role.

Specs are rendered exactly as for local instances (``rendered/native/<workload>/<i>.json``; each
spec's ``host`` names its agent, round robin). prepare() creates the run directory on the agents and
checks the runner imports there; how long that took sets ``lead_s``, so the pipeline schedules the
first phase after the runners are up. launch() copies the specs to the agents and starts each
instance as an Ansible async job (bounded by the schedule plus slack) in the background. From then
on each agent is followed over one ssh session (``HostStream``) running the role's
``load_stream.py``: it sends every record the runners write, as they write it, and each runner's
exit status, and touches the heartbeat the agents' watcher follows. poll() only takes in what
arrived, so the pipeline's loop never waits for the network; a dropped session is reopened where it
stopped. stop() closes the sessions, sends SIGTERM to what still runs, waits for the runners to
flush, and fetches every instance's records and log to ``raw/native/<workload>/<i>.jsonl`` and
``<i>.log``, where the collector finds local ones too. Should apply die, its sessions end, the
heartbeat goes stale and the watcher stops the runners ``HEARTBEAT_STALE_S`` later.

Following costs no playbook run: a playbook per poll (as this transport once did, every 5 s per
workload) took 0.7 of a controller core for one agent, the session 0.005 (docs/benchmarks.md,
"Controller cost per remote agent").

Client secrets (``Cluster.secret_env``) are read from this process's environment and handed to the
runners' environment through load.yml's prompt (see remote/ansible.py): never in a spec, the
inventory, extravars or ansible-runner's artifacts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterable

from orchestrator.errors import EngineError
from orchestrator.cluster import Cluster
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.execute.native import RunnerTransport
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.remote.secrets import read_secrets, secret_answers
from orchestrator.remote.ansible import PlaybookJob
from orchestrator.remote.stream import HostStream
from orchestrator.render.runner import output_path, stop_timeout_s
from orchestrator.rundir import RunDir
from orchestrator.runner.records import RecordTail
from orchestrator.runner.spec import RunnerSpec

RUNNER_FLUSH_S = 300  # drain and flush after the schedule, before Ansible's async timeout kills a runner
LEAD_MARGIN_S = 10.0
STREAM_EVERY_S = 1.0  # how often an agent's stream sends new records and touches the heartbeat
# a dropped session is reopened this long after, this many times in a row; one more without a line fails the run
RECONNECT_AFTER_S = 5.0
RECONNECTS = 3
# the stream touches a heartbeat on the agents every second; a watcher there stops the runners when
# it is this old (apply died or lost the host)
HEARTBEAT_STALE_S = 60


@dataclass
class _Instance:
    spec: RunnerSpec
    name: str
    tail: RecordTail = field(default_factory=RecordTail)
    results_file: str = ""  # its Ansible async job's, on the agent
    offset: int = 0  # bytes of its records received
    finished: bool = False


@dataclass
class _Agent:
    host: str
    instances: dict[str, _Instance]
    run_dir: str = ""
    python: str = ""
    stream: HostStream | None = None
    failures: int = 0  # sessions in a row that ended before sending a line
    reconnect_at: float = 0.0

    @property
    def following(self) -> bool:
        return any(not i.finished for i in self.instances.values())


class AgentRunners(RunnerTransport):
    def __init__(self, workload: str, agents: list[str], run: RunDir, hosts: HostPlaybooks, total_duration: float):
        self.workload, self.agents, self.run, self.total_duration = workload, agents, run, total_duration
        self.provisioner = hosts
        self.specs: list[RunnerSpec] = []
        self._secrets: dict[str, str] = {}
        self._starting: PlaybookJob | None = None
        self._followed: dict[str, _Agent] = {}
        self._running = False

    def prepare(self, cluster: Cluster, specs: list[RunnerSpec]) -> None:
        agents = {h.name for h in self.provisioner.layout().agents}
        unknown = [a for a in self.agents if a not in agents]
        if unknown:
            raise EngineError(f"workload {self.workload}: {', '.join(unknown)} not in the inventory as agent hosts")
        self._secrets = read_secrets(cluster.secret_env.values())
        self.specs = specs
        began = time.monotonic()
        self.provisioner.run("load.yml", f"load-{self.workload}-prepare", self._vars("prepare"))
        # launch() copies specs and starts runners: about two such round trips. A third and a margin
        # absorb a loaded controller; starting early costs only a wait, as runners keep the common start
        self.lead_s = 3 * (time.monotonic() - began) + LEAD_MARGIN_S

    def _hosts(self) -> dict[str, list[RunnerSpec]]:
        out: dict[str, list[RunnerSpec]] = {}
        for spec in self.specs:
            out.setdefault(spec.host, []).append(spec)
        return out

    def _instance_name(self, spec: RunnerSpec) -> str:
        return f"{self.workload}-{spec.instance}"

    def _by_host(self, with_spec: bool) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {}
        for host, specs in self._hosts().items():
            out[host] = [{"name": self._instance_name(s), "instance": s.instance,
                          **({"spec": json.loads(s.to_json())} if with_spec else {})} for s in specs]
        return out

    def _vars(self, action: str, **extra: object) -> dict[str, object]:
        # an extra var answers load.yml's prompt for the client secrets, which only start reads
        return {"load_action": action, "load_run_id": self.run.root.name, "load_hosts": sorted({s.host for s in self.specs}),
                "load_secret_env": "{}", **extra}

    def launch(self, specs: list[RunnerSpec]) -> None:
        self.specs = specs
        timeout = int(self.total_duration + RUNNER_FLUSH_S)
        extravars, answers = secret_answers(
            self._vars("start", load_specs=self._by_host(with_spec=True), load_timeout=timeout,
                       load_heartbeat_stale=HEARTBEAT_STALE_S),
            "load_secret_env", self._secrets)
        self._starting = self.provisioner.start("load.yml", f"load-{self.workload}-start", extravars, answers)
        self._followed = {host: _Agent(host, {self._instance_name(s): _Instance(s, self._instance_name(s))
                                              for s in host_specs})
                          for host, host_specs in self._hosts().items()}
        self._running = True

    def poll(self) -> bool:
        if not self._running:
            return False
        if self._starting is not None:
            if self._starting.running:
                return True
            started = self._starting.wait()
            self._starting = None
            for host, facts in started.facts.items():
                agent = self._followed.get(host)
                if agent is None:
                    continue
                agent.run_dir, agent.python = str(facts.get("load_run_dir", "")), str(facts.get("load_python", ""))
                for instance, results_file in zip(agent.instances.values(), facts.get("load_results", [])):
                    instance.results_file = str(results_file)
        for agent in self._followed.values():
            self._follow(agent)
        return any(agent.following for agent in self._followed.values())

    def _follow(self, agent: _Agent) -> None:
        """Takes in what the agent's stream sent; (re)opens it when there is none and it is time."""
        if agent.stream is None:
            if agent.following and time.monotonic() >= agent.reconnect_at:
                agent.stream = HostStream(self.provisioner.command_on(agent.host, [
                    agent.python, f"{agent.run_dir}/load_stream.py", agent.run_dir, str(STREAM_EVERY_S),
                    *(f"{i.name}={i.results_file}={i.offset}" for i in agent.instances.values() if not i.finished)]),
                    preexec_fn=on_parent_death())
            return
        for line in agent.stream.lines():
            self._take(agent, line)
        if not agent.stream.ended:
            return
        for line in agent.stream.lines():  # what came between the last read and the end
            self._take(agent, line)
        stream, agent.stream = agent.stream, None
        stream.close()
        if agent.following:
            agent.failures += 1
            if agent.failures > RECONNECTS:
                raise EngineError(f"workload {self.workload}: lost agent {agent.host}: {stream.why()}")
            agent.reconnect_at = time.monotonic() + RECONNECT_AFTER_S

    def _take(self, agent: _Agent, line: str) -> None:
        kind, _, rest = line.partition(" ")
        agent.failures = 0
        if kind == "R":
            name, offset, record = rest.split(" ", 2)
            instance = agent.instances[name]
            instance.tail.add([record])
            instance.offset = int(offset)
        elif kind == "S":
            name, _, rc = rest.partition(" ")
            instance = agent.instances[name]
            instance.finished = instance.tail.ended = True
            if rc not in ("0", ""):
                raise EngineError(f"workload {self.workload} instance {instance.spec.instance} on agent "
                                  f"{agent.host}: runner exited with status {rc} "
                                  f"(log: {output_path(self.run, self.workload, instance.spec.instance).with_suffix('.log')})")

    def tails(self) -> Iterable[tuple[RecordTail, bool]]:
        return ((i.tail, self._running) for agent in self._followed.values() for i in agent.instances.values())

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._starting is not None:
            self._starting.wait()
        for agent in self._followed.values():
            if agent.stream is not None:  # what it has not sent yet, stop fetches
                agent.stream.close()
                agent.stream = None
        fetch_dir = output_path(self.run, self.workload, 0).parent
        fetch_dir.mkdir(parents=True, exist_ok=True)
        self.provisioner.run("load.yml", f"load-{self.workload}-stop", self._vars(
            "stop", load_specs=self._by_host(with_spec=False), load_fetch_dir=str(fetch_dir),
            load_stop_timeout=round(stop_timeout_s(self.specs))))
