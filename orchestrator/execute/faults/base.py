"""What every fault action is: a class that injects its fault, maybe waits for it to run its course,
and undoes it. The ``ScheduledFault`` component (execute/fault.py) schedules it and writes the events.

The lifecycle, on the fault's own thread:
    prepare() ▶ inject(due) ▶ settle(deadline, cancel) ▶ wait until the end of ``duration`` ▶ recover(due)
``recover`` is also what runs when apply stops early (interrupted, failed, or aborted) and when any
step failed, so it must be idempotent and safe after a partial ``inject``: a run never ends with a
fault still in place.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.errors import RunError
from orchestrator.execute.faults.brokers import Brokers
from orchestrator.execute.topics import admin_client
from orchestrator.plan.models import Fault as FaultSpec

POLL_S = 0.5


@dataclass(frozen=True)
class Effect:
    """When a step took effect, and what the event says about it beyond the action and broker."""

    ts: float
    note: str = ""


class FaultAction(abc.ABC):
    def __init__(self, spec: FaultSpec, brokers: Brokers):
        self.spec = spec
        self.brokers = brokers

    @property
    def cluster(self) -> Cluster:
        return self.brokers.cluster

    @property
    def target(self) -> str:
        """What the events name: the broker the fault acts on."""
        return f"broker {self.spec.broker}"

    @property
    def lead_s(self) -> float:
        """How long before ``due`` inject and recover are launched (a step through Ansible takes seconds)."""
        return 0.0

    def prepare(self) -> None:
        """Find what the fault acts on; raises RunError before the run starts when it cannot."""

    @abc.abstractmethod
    def inject(self, due: float) -> Effect: ...

    def settle(self, deadline: float, cancel: threading.Event) -> Effect | None:
        """For a fault that runs its course (a rolling restart, a reassignment): wait for it and return
        when it completed, which is the fault's end. None: the fault lasts until ``duration`` is up."""
        return None

    @abc.abstractmethod
    def recover(self, due: float) -> Effect: ...


def wait_until(what: str, ready: Callable[[], bool], deadline: float, cancel: threading.Event | None = None) -> bool:
    """Polls ``ready`` until it holds (True) or ``cancel`` is set (False); RunError at ``deadline``."""
    while not ready():
        if time.time() >= deadline:
            raise RunError(f"{what}: not done by the fault's deadline")
        if cancel is not None and cancel.is_set():
            return False
        time.sleep(POLL_S)
    return True


def fully_replicated(cluster: Cluster, without: BrokerHandle | None = None) -> Callable[[], bool]:
    """A check that every partition of every topic has all its replicas in sync (and, ``without`` a
    broker, that the broker hosts none of them): what 'the cluster has recovered' means."""
    admin = admin_client(cluster)

    def check() -> bool:
        try:
            topics = admin.list_topics(timeout=10).topics
        except Exception:  # noqa: BLE001 - a broker is down or electing: not recovered yet
            return False
        for topic in topics.values():
            if topic.error is not None:
                return False
            for p in topic.partitions.values():
                if p.error is not None or sorted(p.isrs) != sorted(p.replicas) or p.leader < 0:
                    return False
                if without is not None and without.node_id in p.replicas:
                    return False
        return True

    return check
