"""Open-model schedule: the INTENDED send time of every message, as OpenMessaging Benchmark does it.

Within a phase that runs from rate ``a`` to rate ``b`` over ``D`` seconds, the number of messages
due by offset ``t`` is ``N(t) = a·t + (b − a)·t² / (2D)``; message ``k`` (0-based) is intended at
the ``t`` where ``N(t) = k``. A steady phase is the case ``a = b`` (one message every ``1/a`` s).
Intended times never depend on when earlier messages were actually sent, so a producer that falls
behind sends its backlog as fast as it can and the lag shows up as publish delay, not as a lower
rate. Each phase starts at ``start_at`` plus the durations of the phases before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrator.runner.spec import PhaseSpec


def intended_offset(k: int, rate_from: float, rate_to: float, duration_s: float) -> float | None:
    """Seconds from the phase start at which message ``k`` is due, or None when it falls after the phase."""
    if k == 0:
        return 0.0
    a, c = rate_from, (rate_to - rate_from) / (2.0 * duration_s)
    disc = a * a + 4.0 * c * k
    if disc < 0.0:  # a ramp down never reaches k messages
        return None
    t = 2.0 * k / (a + math.sqrt(disc))  # the stable root of c·t² + a·t − k = 0; k/a when c = 0
    return t if t < duration_s else None


def expected_messages(rate_from: float, rate_to: float, duration_s: float) -> float:
    """How many messages the phase intends to send in total."""
    return (rate_from + rate_to) / 2.0 * duration_s


@dataclass(frozen=True)
class TimedPhase:
    phase: PhaseSpec
    start_ns: int
    end_ns: int

    @property
    def throttled(self) -> bool:
        return self.phase.rate_from is not None

    def intended_ns(self, k: int) -> int | None:
        p = self.phase
        offset = intended_offset(k, p.rate_from, p.rate_to, p.duration_s)
        return None if offset is None else self.start_ns + int(offset * 1e9)

    def rate_at(self, t_ns: int) -> float | None:
        p = self.phase
        if p.rate_from is None:
            return None
        frac = min(1.0, max(0.0, (t_ns - self.start_ns) / (self.end_ns - self.start_ns)))
        return p.rate_from + (p.rate_to - p.rate_from) * frac


def timed_phases(phases: list[PhaseSpec], start_at_s: float) -> list[TimedPhase]:
    out, start = [], int(start_at_s * 1e9)
    for p in phases:
        end = start + int(p.duration_s * 1e9)
        out.append(TimedPhase(p, start, end))
        start = end
    return out


def phase_at(phases: list[TimedPhase], t_ns: int) -> TimedPhase | None:
    for tp in phases:
        if tp.start_ns <= t_ns < tp.end_ns:
            return tp
    return None
