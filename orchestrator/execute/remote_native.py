"""A native workload whose instances run on inventory agent hosts, through the agent role.

Specs are rendered exactly as for local instances (``rendered/native/<workload>/<i>.json``; each
spec's ``host`` names its agent, round robin). prepare() creates the run directory on the agents and
checks the runner imports there; how long that took sets ``lead_s``, so the pipeline schedules the
first phase after the runners are up. start() copies them to the agents and launches each
instance as an Ansible async job (bounded by the schedule plus slack) in the background; poll()
reads the jobs' states every few seconds; stop() sends SIGTERM to what still runs, waits for the
runners to flush, and fetches every instance's records and log to
``raw/native/<workload>/<i>.jsonl`` and ``<i>.log``, where the collector finds local ones too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from orchestrator.errors import EngineError
from orchestrator.execute.base import Cluster, Component
from orchestrator.plan.models import ConsumerWorkload, Plan, ProducerWorkload
from orchestrator.provision import Provisioner
from orchestrator.provision.ansible import EventSink, PlaybookJob
from orchestrator.render.runner import output_path, runner_specs, spec_path
from orchestrator.rundir import RunDir
from orchestrator.runner.spec import RunnerSpec

POLL_EVERY_S = 5.0  # each poll is a playbook run: seconds, not milliseconds
SLACK_S = 300  # drain and flush after the schedule, before Ansible's async timeout kills a runner
STOP_TIMEOUT_S = 45  # a runner flushes for at most its flush timeout (30 s by default) after SIGTERM
LEAD_MARGIN_S = 5.0


class RemoteNativeWorkload(Component):
    def __init__(self, plan: Plan, workload: ProducerWorkload | ConsumerWorkload, run: RunDir, plan_path: Path,
                 on_event: EventSink | None = None):
        self.name = workload.name
        self.plan, self.workload, self.run = plan, workload, run
        self.provisioner = Provisioner(plan, plan_path, run.ansible_dir, on_event)
        self.cluster: Cluster | None = None
        self.specs: list[RunnerSpec] = []
        self._starting: PlaybookJob | None = None
        self._jobs: dict[str, list[str]] = {}
        self._next_poll = 0.0
        self._running = False

    def prepare(self, cluster: Cluster) -> None:
        agents = {h.name for h in self.provisioner.layout().agents}
        unknown = [a for a in self.workload.agents if a not in agents]
        if unknown:
            raise EngineError(f"workload {self.name}: {', '.join(unknown)} not in the inventory as agent hosts")
        if cluster.secret_env:
            raise EngineError(f"workload {self.name}: client secrets ({', '.join(cluster.secret_env)}) are not "
                              "passed to remote agents; run this workload on this machine")
        self.cluster = cluster
        self._write_specs(time.time())
        began = time.monotonic()
        self.provisioner.run("load.yml", f"load-{self.name}-prepare", self._vars("prepare"))
        # start() copies specs and launches runners: about two such round trips, plus margin
        self.lead_s = 2 * (time.monotonic() - began) + LEAD_MARGIN_S

    def _write_specs(self, start_at: float) -> None:
        assert self.cluster is not None
        self.specs = runner_specs(self.plan, self.workload, self.cluster, self.run, start_at)
        for spec in self.specs:
            path = spec_path(self.run, self.name, spec.instance)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(spec.to_json())

    def _by_host(self, with_spec: bool) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {}
        for spec in self.specs:
            entry: dict[str, object] = {"name": f"{self.name}-{spec.instance}", "instance": spec.instance}
            if with_spec:
                entry["spec"] = json.loads(spec.to_json())
            out.setdefault(spec.host, []).append(entry)
        return out

    def _vars(self, action: str, **extra: object) -> dict[str, object]:
        return {"load_action": action, "load_run_id": self.run.root.name, "load_hosts": sorted({s.host for s in self.specs}),
                **extra}

    def start(self) -> None:
        if self.cluster is None:
            raise EngineError(f"workload {self.name}: start() before prepare()")
        self._write_specs(self.start_at if self.start_at is not None else time.time())
        timeout = int(self.plan.total_duration + SLACK_S)
        self._starting = self.provisioner.start("load.yml", f"load-{self.name}-start", self._vars(
            "start", load_specs=self._by_host(with_spec=True), load_timeout=timeout))
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
        if time.monotonic() < self._next_poll:
            return True
        self._next_poll = time.monotonic() + POLL_EVERY_S
        polled = self.provisioner.run("load.yml", f"load-{self.name}-poll", self._vars("poll", load_jobs=self._jobs))
        running = False
        instances = {host: [e["instance"] for e in entries] for host, entries in self._by_host(False).items()}
        for host, facts in polled.facts.items():
            for instance, (finished, rc) in zip(instances.get(host, []), facts.get("load_states", [])):
                if not finished:
                    running = True
                elif rc not in (0, ""):
                    raise EngineError(f"workload {self.name} instance {instance} on agent {host}: runner exited "
                                      f"with status {rc} (log: {output_path(self.run, self.name, instance).with_suffix('.log')})")
        return running

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._starting is not None:
            self._starting.wait()
        fetch_dir = output_path(self.run, self.name, 0).parent
        fetch_dir.mkdir(parents=True, exist_ok=True)
        self.provisioner.run("load.yml", f"load-{self.name}-stop", self._vars(
            "stop", load_specs=self._by_host(with_spec=False), load_fetch_dir=str(fetch_dir),
            load_stop_timeout=STOP_TIMEOUT_S))

