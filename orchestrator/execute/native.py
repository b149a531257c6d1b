"""A native workload: one ``python -m orchestrator.runner SPEC`` process per instance, over a transport.

``prepare`` writes each instance's spec to ``RUN_DIR/rendered/native/<workload>/<i>.json`` (start
time as if the run began now, so the files are usable on their own); ``start`` rewrites them with
the run's common start time and has the transport launch the runners. Each runner's records end up
in ``RUN_DIR/raw/native/<workload>/<i>.jsonl`` and its log in ``<i>.log`` beside them, whichever
transport ran it: written there directly by local processes (``LocalRunners``, here), fetched there
at stop from inventory agents (``AgentRunners``, in execute/agent_runners.py).
"""

from __future__ import annotations

import abc
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

from orchestrator.cluster import Cluster
from orchestrator.errors import EngineError
from orchestrator.execute.base import Component, LiveStats
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.plan.models import ConsumerWorkload, Plan, ProducerWorkload
from orchestrator.render.runner import output_path, spec_path, stop_timeout_s, write_runner_specs
from orchestrator.rundir import RunDir
from orchestrator.runner.records import RecordTail
from orchestrator.runner.spec import RunnerSpec

KILL_TIMEOUT_S = 10.0


class RunnerTransport(abc.ABC):
    """Where a native workload's runners run: how they are readied, launched, watched and stopped."""

    lead_s: float = 0.0  # seconds launch() needs before the first phase (see Component.lead_s)

    def prepare(self, cluster: Cluster, specs: list[RunnerSpec]) -> None:
        """Ready the hosts for these runners (the specs as rendered for a start now)."""

    @abc.abstractmethod
    def launch(self, specs: list[RunnerSpec]) -> None: ...

    @abc.abstractmethod
    def poll(self) -> bool:
        """True while a runner still runs. Raises EngineError naming the instance that failed."""

    @abc.abstractmethod
    def stop(self) -> None:
        """End every runner (they flush or drain first) and leave all records under raw/native/."""

    @abc.abstractmethod
    def tails(self) -> Iterable[tuple[RecordTail, bool]]:
        """Each runner's newest records, with whether that runner still runs."""


class NativeWorkload(Component):
    def __init__(self, plan: Plan, workload: ProducerWorkload | ConsumerWorkload, run: RunDir,
                 transport: RunnerTransport):
        self.name = workload.name
        self.plan, self.workload, self.run, self.transport = plan, workload, run, transport
        self.cluster: Cluster | None = None
        self.specs: list[RunnerSpec] = []
        self.stops_by_draining = isinstance(workload, ConsumerWorkload)

    def prepare(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._write_specs(time.time())
        self.transport.prepare(cluster, self.specs)
        self.lead_s = self.transport.lead_s

    def _write_specs(self, start_at: float) -> None:
        assert self.cluster is not None
        self.specs = write_runner_specs(self.plan, self.workload, self.cluster, self.run, start_at)

    def start(self) -> None:
        if self.cluster is None:
            raise EngineError(f"workload {self.name}: start() before prepare()")
        self._write_specs(self.start_at if self.start_at is not None else time.time())
        self.transport.launch(self.specs)

    def poll(self) -> bool:
        return self.transport.poll()

    def stop(self) -> None:
        self.transport.stop()

    def live_stats(self) -> LiveStats:
        return LiveStats.of_runners(isinstance(self.workload, ProducerWorkload), self.transport.tails())


class LocalRunners(RunnerTransport):
    """Runners as child processes of apply, writing their records straight into the run directory."""

    def __init__(self, workload: str, run: RunDir):
        self.workload, self.run = workload, run
        self.specs: list[RunnerSpec] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.files: list[FileTail] = []

    def launch(self, specs: list[RunnerSpec]) -> None:
        self.specs = specs
        for spec in specs:
            out = output_path(self.run, self.workload, spec.instance)
            out.parent.mkdir(parents=True, exist_ok=True)
            with self._log(spec.instance).open("ab") as log:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "orchestrator.runner", str(spec_path(self.run, self.workload, spec.instance))],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                    preexec_fn=on_parent_death()))
            self.files.append(FileTail(out))

    def poll(self) -> bool:
        running = False
        for instance, proc in enumerate(self.procs):
            code = proc.poll()
            if code is None:
                running = True
            elif code != 0:
                raise EngineError(f"workload {self.workload} instance {instance}: runner exited with status {code}: "
                                  f"{self._last_line(instance)}")
        return running

    def stop(self) -> None:
        """SIGTERM (producers flush, consumers drain; both write their end records), then SIGKILL what is left."""
        alive = [p for p in self.procs if p.poll() is None]
        for proc in alive:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout_s(self.specs)
        for proc in alive:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=KILL_TIMEOUT_S)

    def tails(self) -> Iterable[tuple[RecordTail, bool]]:
        return ((tail.read(), proc.poll() is None) for tail, proc in zip(self.files, self.procs))

    def _log(self, instance: int) -> Path:
        return output_path(self.run, self.workload, instance).with_suffix(".log")

    def _last_line(self, instance: int) -> str:
        """The runner's own error line if it wrote one, else the last line of its log."""
        path = self._log(instance)
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()] if path.exists() else []
        own = [ln for ln in lines if ln.startswith("runner ")]
        return (own or lines or [f"nothing logged (see {path})"])[-1]


class FileTail(RecordTail):
    """A runner's records read from its JSONL file, each read taking only the complete new lines."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.offset = path, 0

    def read(self) -> "FileTail":
        if self.path.exists():
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            self.add(complete.splitlines())
        return self
