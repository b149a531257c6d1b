"""The stretch of a run a verdict looks at: the named phase, or every phase but warm-ups."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.collect.timeline import Timeline
from orchestrator.summary import PhaseSpan


@dataclass(frozen=True)
class Window:
    """Half-open epoch-second spans [start, end), in time order."""

    spans: tuple[tuple[float, float], ...]

    @property
    def seconds(self) -> float:
        return sum(end - start for start, end in self.spans)

    def indices(self, timeline: Timeline) -> list[range]:
        """Timeline indices inside the window, one range per span (clipped to the timeline)."""
        out = []
        for start, end in self.spans:
            lo = max(0, int(start) - timeline.start)
            hi = min(timeline.length, int(-(-end // 1)) - timeline.start)  # ceil: a partial second counts
            if hi > lo:
                out.append(range(lo, hi))
        return out

    def contains(self, ts: float) -> bool:
        return any(start <= ts < end for start, end in self.spans)


def whole_timeline(timeline: Timeline) -> Window:
    return Window(((float(timeline.start), float(timeline.start + timeline.length)),))


def window_for(phase: str | None, phases: list[PhaseSpan], timeline: Timeline) -> Window | None:
    """The window of one phase, or of every non-warm-up phase; None when the named phase never ran.

    A run without phase records (an old or truncated run) is judged over its whole timeline."""
    end_of_run = float(timeline.start + timeline.length)
    if phase is not None:
        spans = [(p.start, p.end if p.end is not None else end_of_run) for p in phases if p.name == phase]
        return Window(tuple(spans)) if spans else None
    if not phases:
        return whole_timeline(timeline)
    spans = [(p.start, p.end if p.end is not None else end_of_run) for p in phases if p.kind != "warmup"]
    return Window(tuple(sorted(spans)))
