"""The capacity search's decisions, as a pure function of the probes measured so far.

A search grows the rate by ``growth`` from ``start`` until a probe fails the search's SLOs (or
shrinks it by ``growth`` while the start rate already fails), then bisects between the highest rate
that held and the lowest that failed (geometrically: the resolution is relative) until they are at
most ``resolution`` apart, then confirms the rate that held with a longer probe. The failure that
bounds the answer must be seen twice (a stall or a neighbour's burst can fail one probe), so it is
probed again before the confirmation; a rate's latest probe is what counts, so a failure that does
not repeat moves the search up again, and a confirmation that fails moves it down.

The search stops early, and says why, when a probe shows the load generator rather than the
cluster at its limit (it held the SLOs but sent less than ``GENERATOR_SHORTFALL`` of the intended
rate, or its publish delay grew by more than ``DELAY_GROWTH_MS`` over the measured window: it fell
behind its schedule), when a rate of ``max_rate`` held, when not even ``MIN_RATE`` held, or after
``max_probes`` probes. Rates are whole messages per second, so the same outcomes always lead to the
same probes: the live search and the analysis that reports it reach the same conclusion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

GENERATOR_SHORTFALL = 0.95  # achieved / intended below this: the generator did not keep up
DELAY_GROWTH_MS = 100.0  # median publish delay rising by more than this: the generator fell behind
MIN_RATE = 1.0  # msg/s: a search that must go lower has nothing to find

Role = Literal["probe", "confirm"]
Outcome = Literal["held", "failed", "generator"]
Reason = Literal["converged", "generator", "max_rate", "min_rate", "probe_limit"]


@dataclass(frozen=True)
class SearchSettings:
    start: float  # msg/s
    max_rate: float
    growth: float  # > 1
    resolution: float  # relative, e.g. 0.05
    max_probes: int


@dataclass(frozen=True)
class ProbeResult:
    """What one probe measured over its measured window."""

    rate: float  # intended msg/s
    role: Role
    slos_held: bool
    achieved: float | None  # acknowledged msg/s; None when nothing was acknowledged
    delay_growth_ms: float | None = None  # median publish delay, last third of the window minus first

    @property
    def generator_behind(self) -> bool:
        short = self.achieved is None or self.achieved < GENERATOR_SHORTFALL * self.rate
        return short or (self.delay_growth_ms is not None and self.delay_growth_ms > DELAY_GROWTH_MS)

    @property
    def outcome(self) -> Outcome:
        """An SLO failure is the cluster's answer even when the generator was behind as well; a
        probe that held while the generator fell short says nothing about the cluster."""
        if not self.slos_held:
            return "failed"
        return "generator" if self.generator_behind else "held"


@dataclass(frozen=True)
class NextProbe:
    rate: float
    role: Role


@dataclass(frozen=True)
class Conclusion:
    reason: Reason
    capacity: float | None  # the confirmed rate (converged), else None
    held: float | None  # the highest rate that held below every failure
    failed: float | None  # the lowest rate that failed
    limit: float | None = None  # generator: the rate the generator could not drive


def _whole(rate: float) -> float:
    return float(max(1, round(rate)))


def _bracket(results: list[ProbeResult]) -> tuple[float | None, float | None]:
    """(highest rate that held below the lowest failure, lowest failure), by each rate's latest probe."""
    latest = {r.rate: r.outcome for r in results}
    failed = [rate for rate, outcome in latest.items() if outcome == "failed"]
    hi = min(failed) if failed else None
    held = [rate for rate, outcome in latest.items() if outcome == "held" and (hi is None or rate < hi)]
    return (max(held) if held else None), hi


def _narrowed(results: list[ProbeResult], lo: float, hi: float) -> NextProbe:
    """Bracket narrow enough: probe the bounding failure again unless it already failed twice, then confirm."""
    if sum(1 for r in results if r.rate == hi and r.outcome == "failed") < 2:
        return NextProbe(hi, "probe")
    return NextProbe(lo, "confirm")


def next_probe(settings: SearchSettings, results: list[ProbeResult]) -> NextProbe | Conclusion:
    """The next probe to run after ``results`` (in the order they ran), or why the search is over."""
    if not results:
        return NextProbe(_whole(settings.start), "probe")
    last = results[-1]
    lo, hi = _bracket(results)
    if last.outcome == "generator":
        return Conclusion("generator", None, lo, hi, limit=last.rate)
    if last.role == "confirm" and last.outcome == "held":
        return Conclusion("converged", last.rate, lo, hi)
    if lo is not None and lo >= settings.max_rate and hi is None:
        return Conclusion("max_rate", None, lo, hi)
    if len(results) >= settings.max_probes:
        return Conclusion("probe_limit", None, lo, hi)
    if hi is None:
        return NextProbe(_whole(min(settings.max_rate, lo * settings.growth)), "probe")
    if lo is None:
        down = _whole(hi / settings.growth)
        return Conclusion("min_rate", None, None, hi) if down < MIN_RATE or down >= hi else NextProbe(down, "probe")
    middle = _whole(math.sqrt(lo * hi))
    if hi <= lo * (1.0 + settings.resolution) or not lo < middle < hi:  # or whole rates leave nothing between
        return _narrowed(results, lo, hi)
    return NextProbe(middle, "probe")
