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


def whole_timeline(timeline: Timeline) -> Window:
    return Window(((float(timeline.start), float(timeline.start + timeline.length)),))


def _spans(phases: list[PhaseSpan], timeline: Timeline, keep) -> tuple[tuple[float, float], ...]:
    end_of_run = float(timeline.start + timeline.length)
    return tuple(sorted((p.start, p.end if p.end is not None else end_of_run) for p in phases if keep(p)))


def judged_window(phases: list[PhaseSpan], timeline: Timeline) -> Window:
    """Every phase but warm-ups; a run without phase records (old or truncated) is judged whole."""
    if not phases:
        return whole_timeline(timeline)
    return Window(_spans(phases, timeline, lambda p: p.kind != "warmup"))


def window_for(phase: str | None, phases: list[PhaseSpan], timeline: Timeline) -> Window | None:
    """The window of the named phase (None when it never ran), or the judged window."""
    if phase is None:
        return judged_window(phases, timeline)
    spans = _spans(phases, timeline, lambda p: p.name == phase)
    return Window(spans) if spans else None


def series_slope(series: list[float | None], timeline: Timeline, window: Window) -> float | None:
    """The least-squares slope, per second, of the series' points inside the window; None with
    fewer than three points (two make a line through any noise)."""
    points = [(float(i), v) for r in window.indices(timeline) for i in r if (v := series[i]) is not None]
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
