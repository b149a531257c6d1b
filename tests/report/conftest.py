"""Synthetic measurements for report tests: a timeline, phases, workload summaries and histograms,
without running anything."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import PhaseSpan, WorkloadSummary

T0 = 1_700_000_000


@dataclass
class FakeMeasured:
    timeline: Timeline
    phases: list[PhaseSpan] = field(default_factory=list)
    workloads: list[WorkloadSummary] = field(default_factory=list)
    # (kind, workload) -> one histogram per second of the timeline
    per_second_hist: dict[tuple[str, str], list[Histogram]] = field(default_factory=dict)

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        merged, found = Histogram(), False
        for (k, w), hists in self.per_second_hist.items():
            if k != kind or (workload is not None and w != workload):
                continue
            for i in range(max(0, int(start) - self.timeline.start), min(len(hists), int(end) - self.timeline.start)):
                merged.merge(hists[i])
                found = True
        return merged if found else None


def histogram_of(values_ms: list[float]) -> Histogram:
    h = Histogram()
    for v in values_ms:
        h.record(int(v * 1000))
    return h


def make_measured(length: int, series: dict[str, list[float | None]]) -> FakeMeasured:
    """Series named ``metric@workload`` or ``metric`` (e.g. "produce.rate@w1")."""
    tl = Timeline(start=T0, length=length)
    for name, values in series.items():
        metric, _, workload = name.partition("@")
        assert len(values) == length
        tl.series[SeriesKey(metric, workload=workload or None)] = values
    return FakeMeasured(timeline=tl)


@pytest.fixture
def measured_factory():
    return make_measured
