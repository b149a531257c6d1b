"""One lifecycle for everything that runs during apply: load engines, monitors and faults.

The pipeline drives every component the same way:
    prepare(cluster) ▶ schedule(start_at) ▶ start() ▶ poll() until it returns False or the schedule ends ▶ stop()
``start_at`` is the epoch second at which the first phase begins, common to every component of a run
and a couple of seconds after ``start()`` so that processes can boot; phase offsets count from it.
``stop`` is idempotent and must leave everything already measured in the run directory, so an
interrupted run still has its raw results.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Iterable

from orchestrator.cluster import Cluster
from orchestrator.runner.records import RecordTail


@dataclass(frozen=True)
class LiveStats:
    """What a running component reports for the progress line. The p99s are of the newest second
    (the worst running instance's); lag is the consumers' position lag summed over instances."""

    produced_per_s: float = 0.0
    consumed_per_s: float = 0.0
    errors: int = 0
    publish_p99_ms: float | None = None
    e2e_p99_ms: float | None = None
    lag: int | None = None

    @classmethod
    def of_runners(cls, producer: bool, tails: Iterable[tuple[RecordTail, bool]]) -> "LiveStats":
        """From native runners' record tails, each with whether that runner still runs (a finished
        one no longer sends or receives)."""
        tails = list(tails)
        active = [t for t, running in tails if running and not t.ended]
        rate = sum(t.rate for t in active)
        p99s = [p for t in active if (p := t.p99_ms()) is not None]
        p99 = max(p99s) if p99s else None
        lags = [t.lag for t, _ in tails if t.lag is not None]
        errors = sum(t.errors for t, _ in tails)
        if producer:
            return cls(produced_per_s=rate, errors=errors, publish_p99_ms=p99)
        return cls(consumed_per_s=rate, errors=errors, e2e_p99_ms=p99, lag=sum(lags) if lags else None)


class Component(abc.ABC):
    name: str
    start_at: float | None = None
    # seconds start() needs before its first phase can begin (remote components launch through
    # Ansible); the pipeline schedules the run at least this far ahead, known after prepare()
    lead_s: float = 0.0
    # stop() lets it first read what was acknowledged (a native consumer reads to the log end), so
    # a run can stop it once its loads have finished instead of waiting for it to go idle
    stops_by_draining: bool = False

    def schedule(self, start_at: float) -> None:
        """Called by the pipeline after ``prepare`` and before ``start``."""
        self.start_at = start_at

    @abc.abstractmethod
    def prepare(self, cluster: Cluster) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def poll(self) -> bool:
        """True while still running. Raises EngineError when it failed."""

    @abc.abstractmethod
    def stop(self) -> None: ...

    def live_stats(self) -> LiveStats:
        return LiveStats()
