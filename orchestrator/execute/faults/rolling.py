"""rolling_restart: every broker in turn is stopped (SIGTERM: a controlled shutdown that hands its
leaderships over), started again, and waited for until every partition is fully in sync before the
next one goes; the first one goes once the cluster is fully in sync, as an operator would wait. The
fault ends when the last broker is back in every ISR; ``duration`` bounds it."""

from __future__ import annotations

import signal
import threading
import time

from orchestrator.cluster import BrokerHandle
from orchestrator.execute.faults.base import Effect, FaultAction, fully_replicated, wait_until
from orchestrator.execute.faults.brokers import LEAD_S, AnsibleBroker, BrokerProcess, ensure_exited, when_done


class RollingRestart(FaultAction):
    order: list[tuple[BrokerHandle, BrokerProcess]]
    down: BrokerProcess | None = None  # the broker stopped and not yet started again

    @property
    def target(self) -> str:
        return "every broker"

    @property
    def lead_s(self) -> float:
        return LEAD_S if any(isinstance(p, AnsibleBroker) for _, p in self.order) else 0.0

    def prepare(self) -> None:
        self.order = [(h, self.brokers.process(h)) for h in self.cluster.brokers]

    def inject(self, due: float) -> Effect:
        wait_until("rolling restart: the cluster fully in sync before it begins", fully_replicated(self.cluster),
                   due + self.spec.duration)
        return Effect(self._stop(self.order[0][1], max(due, time.time())))

    def settle(self, deadline: float, cancel: threading.Event) -> Effect | None:
        recovered = fully_replicated(self.cluster)
        for i, (handle, process) in enumerate(self.order):
            if i > 0:
                if cancel.is_set():
                    return None
                self._stop(process, time.time())
            self._start(process)
            if not wait_until(f"rolling restart: broker {handle.host} back in every ISR", recovered, deadline, cancel):
                return None
        return Effect(time.time(), f"{len(self.order)} brokers restarted")

    def recover(self, due: float) -> Effect:
        if self.down is not None:
            self._start(self.down)
        return Effect(time.time())

    def _stop(self, process: BrokerProcess, due: float) -> float:
        self.down = process
        at = when_done(process, due, lambda: process.signal(signal.SIGTERM))
        ensure_exited(process)
        return at

    def _start(self, process: BrokerProcess) -> None:
        when_done(process, time.time(), process.restart)
        self.down = None
