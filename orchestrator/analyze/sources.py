"""The brokers' JMX and the hosts' series over the judged window: min, mean and max per broker or
host, for summary.json (``Summary.metrics``)."""

from __future__ import annotations

from orchestrator.analyze.window import Window
from orchestrator.collect.timeline import Timeline
from orchestrator.plan.sources import CATALOGUE
from orchestrator.summary import SourceStats


def source_stats(timeline: Timeline, window: Window) -> list[SourceStats]:
    out = []
    for key, series in sorted(timeline.series.items(), key=lambda kv: kv[0].column()):
        entry = CATALOGUE.get(key.metric)
        if entry is None or key.host is None:
            continue
        values = [v for r in window.indices(timeline) for i in r if (v := series[i]) is not None]
        if values:
            out.append(SourceStats(metric=key.metric, source=key.host, unit=entry.unit, seconds=len(values),
                                   min=min(values), mean=sum(values) / len(values), max=max(values)))
    return out
