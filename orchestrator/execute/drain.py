"""A drain phase while it runs: release the consumers once the backlog is acknowledged, and end the
phase once they have read it, through the control file (``orchestrator.runner.control``).

The producer instances send their shares of the backlog unthrottled and end when every message of
it is acknowledged: their end records are the signal. The consumers, held off until then, are
released on the runners' one-second grid at least ``LEAD_S`` ahead, recorded as a
``backlog_written`` event at the release; when they have received as many messages in the phase as
the producers acknowledged in it, the phase ends (``backlog_drained``) on the grid too. A drain
that never finishes ends at its timeout, and ``backlog_drained`` says how far it got.
"""

from __future__ import annotations

import math

from orchestrator.analyze.consumer import drain_phase
from orchestrator.analyze.retention import format_size
from orchestrator.errors import RunError
from orchestrator.events import EventLog
from orchestrator.execute.native import FileTail
from orchestrator.plan.models import ConsumerWorkload, LocalTarget, Plan, ProducerWorkload
from orchestrator.render.runner import backlog_messages, mean_message_bytes, output_path
from orchestrator.rundir import RunDir
from orchestrator.runner.control import Control, write_control

LEAD_S = 1.0  # runners look at the control file every 0.1 s: a second ahead reaches them all


def check_backlog_fits(plan: Plan, run: RunDir) -> None:
    """A backlog in bytes, times the topic's replication, must fit the local broker's free space
    (the only disk this machine can see before the run; a remote cluster's is checked by no one)."""
    phase = drain_phase(plan)
    free = run.broker_free_bytes() if isinstance(plan.target, LocalTarget) else None
    if phase is None or free is None:
        return
    producer = next(w for w in plan.workloads if isinstance(w, ProducerWorkload))
    if producer.message.payload_file is not None:
        return
    topic = plan.topic(producer.topic)
    replicas = topic.replication_factor if topic is not None else 1
    needed = backlog_messages(phase, producer) * mean_message_bytes(producer) * replicas
    if needed > free:
        raise RunError(f"drain {phase.name!r}: a backlog of {format_size(needed, binary=True)} (replication {replicas}) does not "
                       f"fit the {format_size(free, binary=True)} free under {run.broker_dir}")


class DrainDriver:
    def __init__(self, plan: Plan, run: RunDir, events: EventLog, phase_start: float, start_at: float):
        phase = drain_phase(plan)
        if phase is None:
            raise ValueError("the plan has no drain phase")
        self.phase, self.run, self.events, self.start_at, self.phase_start = phase, run, events, start_at, phase_start
        producer = next(w for w in plan.workloads if isinstance(w, ProducerWorkload))
        self.producers = [FileTail(output_path(run, producer.name, i)) for i in range(producer.instances)]
        self.consumers = [FileTail(output_path(run, w.name, i)) for w in plan.workloads
                          if isinstance(w, ConsumerWorkload) for i in range(w.instances)]
        self.release: float | None = None
        self.ended: float | None = None
        self._announced = False  # the backlog_written event, written once the release time has passed

    def _grid_after(self, t: float) -> float:
        return self.start_at + math.ceil(t - self.start_at)

    def _count(self, tails: list[FileTail]) -> tuple[int, int]:
        """Messages and bytes the tails counted in the drain phase."""
        return (sum(t.by_phase.get(self.phase.name, 0) for t in tails),
                sum(t.bytes_by_phase.get(self.phase.name, 0) for t in tails))

    def poll(self, now: float) -> float | None:
        """The time the drain ends, once it is decided; None while it goes on."""
        if self.ended is not None or now < self.phase_start:
            return self.ended
        if self.release is None:
            if all(t.read().ended for t in self.producers):
                self.release = self._grid_after(now + LEAD_S)
                write_control(self.run.control, Control(release_ns=int(self.release * 1e9)))
            return None
        if now < self.release:
            return None
        written, _ = self._announce()
        read, _ = self._count([t.read() for t in self.consumers])
        if read >= written:
            end = self._grid_after(now + LEAD_S)
            self._end(end, f"{read} of {written} messages read")
        return self.ended

    def _announce(self) -> tuple[int, int]:
        """The backlog's messages and bytes; the backlog_written event at the release, once."""
        written, nbytes = self._count(self.producers)
        if not self._announced and self.release is not None:
            self.events.write("backlog_written", self.phase.name, f"{written} messages ({nbytes} bytes) acknowledged; "
                              "consumers released", ts=self.release)
            self._announced = True
        return written, nbytes

    def _end(self, at: float, detail: str) -> None:
        release = None if self.release is None else int(self.release * 1e9)
        write_control(self.run.control, Control(end_ns=int(at * 1e9), release_ns=release))
        self.events.write("backlog_drained", self.phase.name, detail, ts=at)
        self.ended = at

    def close(self, now: float) -> None:
        """A drain that did not finish (timeout, abort, interrupt) says how far it got."""
        if self.ended is not None:
            return
        written, _ = self._announce() if self.release is not None and now >= self.release else self._count(self.producers)
        read, _ = self._count([t.read() for t in self.consumers])
        if self.release is None or now < self.release:
            detail = f"not drained: the backlog was not written by the end ({written} messages acknowledged)"
        else:
            detail = f"not drained: {read} of {written} messages read by the end"
        self.events.write("backlog_drained", self.phase.name, detail, ts=min(now, self.phase_start + self.phase.timeout))
        self.ended = now
