"""disk_full: a file fills the file system of the broker's (first) log dir, to ``fill_to`` of its
size or to the last free byte, and is removed when the fault ends; on this machine or on the
broker's host over ssh (``hosts.py``), the same way (``fill.py``). A broker whose log dir failed
under the full disk either stopped itself (Kafka halts when its metadata log dir goes offline) or
keeps the dir offline until it restarts (DescribeLogDirs says so): either way it is started again
once the space is back."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from orchestrator.errors import RunError
from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.execute.faults.brokers import BrokerProcess, ensure_exited
from orchestrator.execute.faults.hosts import FaultHost, fault_host
from orchestrator.execute.log_dirs import describe_log_dirs, refusal
from orchestrator.plan.faults import ACTIONS

DESCRIBE_TIMEOUT_S = 10.0


def fill_name(fault: str) -> str:
    """The fill file's name in the log dir (Kafka loads only directories there, so it ignores it)."""
    return f".orchestrate-fill-{fault}"


class DiskFull(FaultAction):
    host: FaultHost
    process: BrokerProcess
    path: Path

    def prepare(self) -> None:
        self.handle = handle = self.brokers.find(self.spec.broker)
        self.process = self.brokers.process(handle)
        self.host = fault_host(self.brokers, handle)
        log_dir = self.host.check(self.spec.action, ACTIONS[self.spec.action].needs(self.spec, self.host.remote)).log_dir
        if log_dir is None:
            raise RunError(f"fault {self.spec.name}: the log dirs of broker {handle.host} ({handle.address}) "
                           "are not on this machine")
        self.path = log_dir / fill_name(self.spec.name)

    @property
    def lead_s(self) -> float:
        return self.host.lead_s

    def inject(self, due: float) -> Effect:
        return Effect(*self.host.fill(self.path, self.spec.fill_to, due))

    def recover(self, due: float) -> Effect:
        ts, alive = self.host.unfill(self.path, due)
        if alive:
            if not self._log_dir_failed():
                return Effect(ts, "file removed")
            self.process.signal(signal.SIGTERM)
            ensure_exited(self.process)
        self.process.restart()
        return Effect(time.time(), "file removed, broker restarted")

    def _log_dir_failed(self) -> bool:
        """True when the broker reports a log dir offline, or cannot say (then a restart is the remedy)."""
        if refusal(self.cluster) is not None:
            return False  # nothing to ask it with: trust that it is fine
        try:
            return any(d.error for d in describe_log_dirs(self.handle.address, {}, DESCRIBE_TIMEOUT_S))
        except RunError:
            return True
