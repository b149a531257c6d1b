"""A scheduled fault: the action the plan names (``orchestrator.execute.faults.FAULTS``), injected at
``start_at + at``, undone ``duration`` later, on a thread of its own so that a broker that takes a
while to come back does not stall the pipeline's clock.

``fault_start`` is written when the fault took effect and ``fault_end`` when it was undone (or, for
a fault that runs its course such as a rolling restart or a decommission, when it completed): the
report's recovery time is the span between them. ``stop()`` undoes a fault still in place at once,
and a step that fails undoes what was done before the error is handed to ``poll``: a run never ends
with a broker left down, paused, partitioned or with a full disk.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from orchestrator.cluster import Cluster
from orchestrator.errors import BrokerError, ProvisionError, RunError
from orchestrator.events import EventLog
from orchestrator.execute.base import Component
from orchestrator.execute.faults import FAULTS
from orchestrator.execute.faults.base import FaultAction
from orchestrator.execute.faults.brokers import EXIT_TIMEOUT_S, LEAD_S, BrokerProcess, Brokers
from orchestrator.execute.local_kafka import READY_TIMEOUT_S
from orchestrator.plan.models import Fault as FaultSpec
from orchestrator.remote.playbooks import HostPlaybooks

JOIN_TIMEOUT_S = LEAD_S + EXIT_TIMEOUT_S + READY_TIMEOUT_S + 10


def checked_action(spec: FaultSpec, cluster: Cluster, local: Mapping[int, BrokerProcess],
                   provisioner: HostPlaybooks | None) -> FaultAction:
    """The fault's action, having found what it acts on and asked its host for what it needs: a
    RunError (one line naming the host and what it lacks) when the fault cannot be performed."""
    action = FAULTS[spec.action](spec, Brokers(cluster, local, provisioner, spec.name))
    action.prepare()
    return action


class ScheduledFault(Component):
    def __init__(self, spec: FaultSpec, events: EventLog, local: Mapping[int, BrokerProcess],
                 provisioner: HostPlaybooks | None = None):
        """``provisioner`` reaches brokers on other hosts; without it only this machine's brokers can fail."""
        self.spec = spec
        self.name = f"fault:{spec.name}"
        self.events = events
        self.local = local
        self.provisioner = provisioner
        self.action: FaultAction | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def prepare(self, cluster: Cluster) -> None:
        self.action = checked_action(self.spec, cluster, self.local, self.provisioner)

    def start(self) -> None:
        if self.start_at is None:
            raise RunError(f"fault {self.spec.name}: started without a schedule")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def poll(self) -> bool:
        if isinstance(self._error, ProvisionError):
            raise self._error  # already names the host and the task
        if self._error is not None:
            raise BrokerError(f"fault {self.spec.name}: {self._error}")
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout=JOIN_TIMEOUT_S + self.spec.duration)

    # ------------------------------------------------------------------ the fault thread
    def _run(self) -> None:
        action = self.action
        assert action is not None and self.start_at is not None
        due = self.start_at + self.spec.at
        if self._cancel.wait(max(0.0, due - action.lead_s - time.time())):
            return
        try:
            self._inject(action, due)
        except BaseException as err:  # noqa: BLE001 - handed to poll() on the pipeline's thread
            self._error = err
            try:
                action.recover(time.time())
            except BaseException:  # noqa: BLE001 - the first error is the one to report
                pass

    def _inject(self, action: FaultAction, due: float) -> None:
        what = f"{self.spec.action} {action.target}"
        began = action.inject(due)
        self.events.write("fault_start", self.spec.name, _with(what, began.note), ts=began.ts)
        deadline = began.ts + self.spec.duration
        done = action.settle(deadline, self._cancel)
        if done is not None:
            self.events.write("fault_end", self.spec.name,
                              _with(f"{what}: recovered after {done.ts - began.ts:.1f}s", done.note), ts=done.ts)
        # a stopped run undoes the fault at once
        due = deadline
        if self._cancel.wait(max(0.0, due - action.lead_s - time.time())):
            due = time.time()
        ended = action.recover(due)
        if done is None:
            self.events.write("fault_end", self.spec.name,
                              _with(f"{what}: recovered after {ended.ts - began.ts:.1f}s", ended.note), ts=ended.ts)


def _with(detail: str, note: str) -> str:
    return f"{detail} ({note})" if note else detail
