"""The native workload's transport to inventory agent hosts, through the agent role.

Specs are rendered exactly as for local instances (``rendered/native/<workload>/<i>.json``; each
spec's ``host`` names its agent, round robin). prepare() creates the run directory on the agents and
checks the runner imports there; how long that took sets ``lead_s``, so the pipeline schedules the
first phase after the runners are up. launch() copies the specs to the agents and starts each
instance as an Ansible async job (bounded by the schedule plus slack) in the background; poll()
reads the jobs' states and the newest records (the live rates) every few seconds, in the
background like launch, so the pipeline's loop never waits for Ansible; stop() sends
SIGTERM to what still runs, waits for the runners to flush, and fetches every instance's records
and log to ``raw/native/<workload>/<i>.jsonl`` and ``<i>.log``, where the collector finds local
ones too. Should apply die, every poll stops and with it the heartbeat each poll touches on the
agents: a watcher started beside the runners stops them ``HEARTBEAT_STALE_S`` later.

Client secrets (``Cluster.secret_env``) are read from this process's environment and handed to the
runners' environment through load.yml's prompt (see remote/ansible.py): never in a spec, the
inventory, extravars or ansible-runner's artifacts.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from typing import Iterable

from orchestrator.errors import EngineError, ProvisionError
from orchestrator.cluster import Cluster
from orchestrator.execute.native import RunnerTransport
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.remote.secrets import read_secrets, secret_answers
from orchestrator.remote.ansible import PlaybookJob, PlaybookResult
from orchestrator.render.runner import output_path, stop_timeout_s
from orchestrator.rundir import RunDir
from orchestrator.runner.records import RecordTail
from orchestrator.runner.spec import RunnerSpec

POLL_EVERY_S = 5.0  # each poll is a playbook run: seconds, not milliseconds
RUNNER_FLUSH_S = 300  # drain and flush after the schedule, before Ansible's async timeout kills a runner
LEAD_MARGIN_S = 10.0
TAIL_MARGIN = 3  # records beyond one per second since the last poll
# each poll touches a heartbeat on the agents; a watcher there stops the runners when it is this old
# (apply died): a dozen missed polls, as a loaded controller can take several seconds for one
HEARTBEAT_STALE_S = 60


class AgentRunners(RunnerTransport):
    def __init__(self, workload: str, agents: list[str], run: RunDir, hosts: HostPlaybooks, total_duration: float):
        self.workload, self.agents, self.run, self.total_duration = workload, agents, run, total_duration
        self.provisioner = hosts
        # polls run every few seconds: the rates line shows their outcome, not their tasks
        self._quiet = replace(self.provisioner, on_event=None)
        self.specs: list[RunnerSpec] = []
        self._secrets: dict[str, str] = {}
        self._starting: PlaybookJob | None = None
        self._polling: PlaybookJob | None = None
        self._alive = True  # as the newest poll found the runners
        self._jobs: dict[str, list[str]] = {}
        self._rates: dict[tuple[str, int], RecordTail] = {}
        self._next_poll = 0.0
        self._last_poll = 0.0
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
        self._rates = {(s.host, s.instance): RecordTail() for s in self.specs}
        self._last_poll = time.monotonic()
        self._running = True

    def poll(self) -> bool:
        if not self._running:
            return False
        if self._starting is not None:
            if self._starting.running:
                return True
            started = self._starting.wait()
            self._jobs = {host: list(facts.get("load_jobs", [])) for host, facts in started.facts.items()}
            self._starting = None
        if self._polling is not None:
            if self._polling.running:
                return self._alive
            self._alive = self._read(self._polling.wait())
            self._polling = None
        if self._alive and time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + POLL_EVERY_S
            lines = math.ceil(time.monotonic() - self._last_poll) + TAIL_MARGIN
            self._last_poll = time.monotonic()
            self._polling = self._quiet.start("load.yml", f"load-{self.workload}-poll", self._vars(
                "poll", load_jobs=self._jobs, load_tail_lines=lines,
                load_names={host: [self._instance_name(s) for s in specs] for host, specs in self._hosts().items()}))
        return self._alive

    def _read(self, polled: PlaybookResult) -> bool:
        """Takes in one poll's records and states; True while a runner still runs."""
        running = False
        hosts = self._hosts()
        for host, facts in polled.facts.items():
            instances = [s.instance for s in hosts.get(host, [])]
            for instance, tail in zip(instances, facts.get("load_tails", [])):
                self._rates[(host, instance)].add(str(tail).splitlines())
            for instance, (finished, rc) in zip(instances, facts.get("load_states", [])):
                self._rates[(host, instance)].ended |= bool(finished)
                if not finished:
                    running = True
                elif rc not in (0, ""):
                    raise EngineError(f"workload {self.workload} instance {instance} on agent {host}: runner exited "
                                      f"with status {rc} (log: {output_path(self.run, self.workload, instance).with_suffix('.log')})")
        return running

    def tails(self) -> Iterable[tuple[RecordTail, bool]]:
        return ((tail, self._running) for tail in self._rates.values())

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._starting is not None:
            self._starting.wait()
        if self._polling is not None:
            try:
                self._polling.wait()
            except ProvisionError:
                pass  # a last poll that failed changes nothing: stop fetches what the runners wrote
        fetch_dir = output_path(self.run, self.workload, 0).parent
        fetch_dir.mkdir(parents=True, exist_ok=True)
        self.provisioner.run("load.yml", f"load-{self.workload}-stop", self._vars(
            "stop", load_specs=self._by_host(with_spec=False), load_fetch_dir=str(fetch_dir),
            load_stop_timeout=round(stop_timeout_s(self.specs))))
