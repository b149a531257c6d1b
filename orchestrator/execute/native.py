"""A native workload: one ``python -m orchestrator.runner SPEC`` process per instance, on this machine.

``prepare`` writes each instance's spec to ``RUN_DIR/rendered/native/<workload>/<i>.json`` (start
time as if the run began now, so the files are usable on their own); ``start`` rewrites them with
the run's common start time and launches the processes. Each runner writes its records to
``RUN_DIR/raw/native/<workload>/<i>.jsonl`` and its stderr to ``<i>.log`` beside them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.errors import EngineError
from orchestrator.cluster import Cluster
from orchestrator.execute.base import Component, LiveStats
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.plan.models import ConsumerWorkload, Plan, ProducerWorkload
from orchestrator.render.runner import output_path, spec_path, stop_timeout_s, write_runner_specs
from orchestrator.rundir import RunDir
from orchestrator.runner.records import RecordTail
from orchestrator.runner.spec import RunnerSpec

KILL_TIMEOUT_S = 10.0


class NativeWorkload(Component):
    def __init__(self, plan: Plan, workload: ProducerWorkload | ConsumerWorkload, run: RunDir):
        self.name = workload.name
        self.plan, self.workload, self.run = plan, workload, run
        self.cluster: Cluster | None = None
        self.specs: list[RunnerSpec] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tails: list[FileTail] = []

    def prepare(self, cluster: Cluster) -> None:
        if self.workload.agents:
            raise EngineError(f"workload {self.name}: running native instances on agents "
                              f"({', '.join(self.workload.agents)}) needs a provisioned agent runner")
        self.cluster = cluster
        self._write_specs(time.time())

    def _write_specs(self, start_at: float) -> None:
        assert self.cluster is not None
        self.specs = write_runner_specs(self.plan, self.workload, self.cluster, self.run, start_at)

    def start(self) -> None:
        if self.cluster is None:
            raise EngineError(f"workload {self.name}: start() before prepare()")
        self._write_specs(self.start_at if self.start_at is not None else time.time())
        for spec in self.specs:
            out = output_path(self.run, self.name, spec.instance)
            out.parent.mkdir(parents=True, exist_ok=True)
            with self._log(spec.instance).open("ab") as log:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "orchestrator.runner", str(spec_path(self.run, self.name, spec.instance))],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                    preexec_fn=on_parent_death()))
            self.tails.append(FileTail(out))

    def poll(self) -> bool:
        running = False
        for instance, proc in enumerate(self.procs):
            code = proc.poll()
            if code is None:
                running = True
            elif code != 0:
                raise EngineError(f"workload {self.name} instance {instance}: runner exited with status {code}: "
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

    def live_stats(self) -> LiveStats:
        return LiveStats.of_runners(isinstance(self.workload, ProducerWorkload),
                                    ((tail.read(), proc.poll() is None) for tail, proc in zip(self.tails, self.procs)))

    def _log(self, instance: int) -> Path:
        return output_path(self.run, self.name, instance).with_suffix(".log")

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
