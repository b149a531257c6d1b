"""decommission: every replica the broker holds moves to the other brokers by partition
reassignment (to the broker holding fewest replicas among those not already in the partition's
replica set; where every broker already holds one, the replica is dropped and the partition keeps
one replica fewer). The fault ends when the reassignment completes: every partition fully in sync
and none on the broker, which is what the recovery answer times. After ``duration`` (or when the
run stops) the original assignment is restored, so the run leaves the cluster as it found it."""

from __future__ import annotations

import threading
import time
from collections import Counter

from orchestrator.cluster import BrokerHandle
from orchestrator.errors import RunError
from orchestrator.execute.faults.base import Effect, FaultAction, fully_replicated, wait_until
from orchestrator.execute.log_dirs import refusal
from orchestrator.execute.reassign import WHAT, Assignment, reassign
from orchestrator.execute.topics import admin_client

REQUEST_TIMEOUT_S = 30.0
RESTORE_TIMEOUT_S = 120.0


class Decommission(FaultAction):
    handle: BrokerHandle
    original: Assignment | None = None

    def prepare(self) -> None:
        self.handle = self.brokers.find(self.spec.broker)
        if reason := refusal(self.cluster, WHAT):
            raise RunError(f"fault {self.spec.name}: {reason}")
        if len(self.cluster.brokers) < 2:
            raise RunError(f"fault {self.spec.name}: decommissioning needs another broker to move the replicas to")

    def inject(self, due: float) -> Effect:
        current = self._assignment()
        self.original = {tp: replicas for tp, replicas in current.items() if self.handle.node_id in replicas}
        moved = _without(current, self.handle.node_id, [b.node_id for b in self.cluster.brokers])
        self._submit(moved)
        return Effect(time.time(), f"{len(moved)} partitions reassigned")

    def settle(self, deadline: float, cancel: threading.Event) -> Effect | None:
        done = wait_until(f"decommission of broker {self.handle.host}",
                          fully_replicated(self.cluster, without=self.handle), deadline, cancel)
        return Effect(time.time(), "no replica left on the broker") if done else None

    def recover(self, due: float) -> Effect:
        if self.original:
            self._submit(self.original)
            wait_until(f"restoring the assignment of broker {self.handle.host}", self._restored,
                       time.time() + RESTORE_TIMEOUT_S)
            self.original = None
        return Effect(time.time(), "original assignment restored")

    def _assignment(self) -> Assignment:
        topics = admin_client(self.cluster).list_topics(timeout=REQUEST_TIMEOUT_S).topics
        return {(t, p.id): list(p.replicas) for t, meta in topics.items() for p in meta.partitions.values()}

    def _restored(self) -> bool:
        current = self._assignment()
        return (all(current.get(tp) == replicas for tp, replicas in (self.original or {}).items())
                and fully_replicated(self.cluster)())

    def _submit(self, assignment: Assignment) -> None:
        others = [b.address for b in self.cluster.brokers if b.node_id != self.handle.node_id]
        reassign(others[0], assignment, REQUEST_TIMEOUT_S)


def _without(current: Assignment, broker: int, brokers: list[int]) -> Assignment:
    """The partitions that hold ``broker``, each with it replaced by the least-loaded broker not yet in
    its replica set (in the same place, so preferred leadership moves with it), or dropped."""
    load = Counter(r for replicas in current.values() for r in replicas if r != broker)
    load.update({b: 0 for b in brokers if b != broker})
    out: Assignment = {}
    for tp, replicas in sorted(current.items()):
        if broker not in replicas:
            continue
        spare = sorted((b for b in load if b not in replicas), key=lambda b: (load[b], b))
        if spare:
            load[spare[0]] += 1
            out[tp] = [spare[0] if r == broker else r for r in replicas]
        else:
            out[tp] = [r for r in replicas if r != broker]
    return out
