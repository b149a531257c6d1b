"""broker_stop, broker_kill and broker_pause: a signal to the broker's process, and its recovery.

``fault_start`` is when the signal was delivered and ``fault_end`` when the broker listens again
(or was resumed): the report's recovery time is the span between them, and an Ansible broker's
steps take seconds of their own that must not count, so both are the times the host reports.
"""

from __future__ import annotations

import signal

from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.execute.faults.brokers import LEAD_S, AnsibleBroker, BrokerProcess, ensure_exited, when_done


class SignalFault(FaultAction):
    first: signal.Signals
    process: BrokerProcess

    def prepare(self) -> None:
        self.process = self.brokers.process(self.brokers.find(self.spec.broker))

    @property
    def lead_s(self) -> float:
        return LEAD_S if isinstance(self.process, AnsibleBroker) else 0.0

    def inject(self, due: float) -> Effect:
        return Effect(when_done(self.process, due, lambda: self.process.signal(self.first)))


class StopFault(SignalFault):
    """SIGTERM, then SIGKILL if the broker has not exited in time; restart at the end."""

    first = signal.SIGTERM

    def inject(self, due: float) -> Effect:
        effect = super().inject(due)
        ensure_exited(self.process)
        return effect

    def recover(self, due: float) -> Effect:
        return Effect(when_done(self.process, due, self.process.restart))


class KillFault(StopFault):
    first = signal.SIGKILL


class PauseFault(SignalFault):
    first = signal.SIGSTOP

    def recover(self, due: float) -> Effect:
        return Effect(when_done(self.process, due, lambda: self.process.signal(signal.SIGCONT)))
