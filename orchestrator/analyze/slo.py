"""SLO verdicts: each plan SLO reduced to one observed value over its window and compared.

Window: the SLO's ``phase``, or every phase but warm-ups. Scope: the SLO's ``workload``, or every
workload combined. The value comes from the aggregate that fits the metric (see
``orchestrator.plan.metrics``): latency percentiles from the histograms merged over the window
(never an average of per-second percentiles), rates as messages / window seconds, lost/duplicated/
out-of-order from the consumers' summaries, disk and broker gauges as the maximum over the window,
lag growth as the least-squares slope of the per-second position lag over the window, idle shares
(``trough``) as the minimum and sampled rates (``mean``) as the mean of the samples; brokers and
hosts combine each second as their catalogue entry says (``orchestrator.plan.sources``).

With ``sustained``, the SLO is breached only when the per-second series violates the threshold for
that many consecutive seconds; ``breached_at`` is the first second of the first such stretch.
Without it, ``breached_at`` is the first second that violated the threshold, when the SLO failed.
In the per-second series a latency second in which messages were outstanding but none completed
counts at the time the oldest of them had waited (``orchestrator.analyze.stall``), not as a gap, and
a rate second without data counts as zero, as it does in the window's rate.

Verdicts: pass, fail, no_data. ``no_data`` (nothing was measured for the metric in the window)
makes the run's verdict fail: an SLO that could not be checked has not been shown to hold.
"""

from __future__ import annotations

import operator
from datetime import datetime, timezone
from collections.abc import Callable, Iterable
from typing import Protocol

from orchestrator.analyze.latency import stat_ms
from orchestrator.analyze.live import LiveTail
from orchestrator.analyze.stall import CONSUMER_KINDS, PRODUCER_KINDS, Feeds, feeds, stall_workloads, waited_ms
from orchestrator.analyze.window import Window, series_slope, window_for
from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.events import phase_spans, read_events
from orchestrator.collect.timeline import Timeline
from orchestrator.plan.metrics import MetricSpec, parse_threshold, spec
from orchestrator.plan.models import Plan, Slo
from orchestrator.rundir import RunDir
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import PhaseSpan, SloResult, WorkloadSummary

OPS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
LIVE_MARGIN_S = 10  # seconds kept beyond the longest sustain window
_COMBINE: dict[str, Callable[[Iterable[float]], float]] = {"sum": sum, "max": max, "min": min}
_SUMMARY_FIELD = {"lost": "lost", "duplicated": "duplicated", "out_of_order": "out_of_order"}


class Measured(Protocol):
    """What verdicts need from the collector's result."""

    timeline: Timeline
    phases: list[PhaseSpan]
    workloads: list[WorkloadSummary]

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None: ...


class MemoHistograms:
    """A ``Measured`` whose ``histogram()`` answers repeated windows from memory: the SLOs, the
    percentile spectra and the OMB aggregates ask for the same windows, and each merge reads
    every second of the window."""

    def __init__(self, inner: Measured):
        self.inner = inner
        self.timeline, self.phases, self.workloads = inner.timeline, inner.phases, inner.workloads
        self._memo: dict[tuple[str, str | None, float, float], Histogram | None] = {}

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        key = (kind, workload, start, end)
        if key not in self._memo:
            self._memo[key] = self.inner.histogram(kind, workload, start, end)
        return self._memo[key]


def per_second(timeline: Timeline, metric: MetricSpec, workload: str | None,
               sources: Feeds | None = None) -> list[float | None] | None:
    """One value a second for the SLO's scope: workloads combined by sum (rates, counts) or max
    (latencies, gauges). None when the timeline has no such series. Latencies count stalled seconds
    (``sources``: the producers of each consumer, for end-to-end latency)."""
    if metric.reduce == "ratio":
        return _ratio_series(timeline, metric, workload)
    if metric.latency_kind in PRODUCER_KINDS + CONSUMER_KINDS:
        columns = _latency_columns(timeline, metric, workload, sources or {})
        return _worst([values for values, _ in columns]) if columns else None
    where = {"workload": workload} if workload is not None else {}
    # JMeter series come per sampler label and for all labels (label None), so the unlabelled one
    # counts when there is one; committed lag (admin samples) comes only labelled (by consumer group)
    found = list(timeline.select(metric.metric, label=None, **where).values())
    found = found or list(timeline.select(metric.metric, **where).values())
    if len(found) <= 1:
        return found[0] if found else None
    combine = _COMBINE[metric.combine] if metric.combine else sum if metric.reduce in ("rate", "total", "summary") else max
    return [_combine(combine, column) for column in zip(*found)]


def _worst(found: list[list[float | None]]) -> list[float | None]:
    return found[0] if len(found) == 1 else [_combine(max, column) for column in zip(*found)]


def _latency_columns(timeline: Timeline, metric: MetricSpec, workload: str | None,
                     sources: Feeds) -> list[tuple[list[float | None], list[bool]]]:
    """Per workload in scope: its latency a second, stalled seconds filled in, and which were filled."""
    kind = metric.latency_kind or ""
    where = {"workload": workload} if workload is not None else {}
    measured = {k.workload: v for k, v in timeline.select(metric.metric, label=None, **where).items()}
    stalled = [w for w in stall_workloads(timeline, kind, sources) if workload is None or w == workload]
    columns = []
    for name in sorted(set(measured) | set(stalled), key=str):
        values = measured.get(name) or [None] * timeline.length
        waits = waited_ms(timeline, kind, name, sources) if name in stalled else [None] * timeline.length
        columns.append(([v if v is not None else w for v, w in zip(values, waits)],
                        [v is None and w is not None for v, w in zip(values, waits)]))
    return columns


def _combine(fn: Callable[[Iterable[float]], float], values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fn(present) if present else None


def _ratio_series(timeline: Timeline, metric: MetricSpec, workload: str | None) -> list[float | None] | None:
    family = metric.metric.split(".")[0]
    errors = per_second(timeline, _errors_spec(family), workload)
    counts = per_second(timeline, spec(metric.counts_metric or ""), workload)
    if errors is None or counts is None:
        return None
    return [None if e is None and c is None else _percent(e or 0.0, c or 0.0) for e, c in zip(errors, counts)]


def _errors_spec(family: str) -> MetricSpec:
    """produce.errors, consume.errors or jmeter.errors (a per-second count series)."""
    return MetricSpec(f"{family}.errors", "count", "total")


def _percent(errors: float, successes: float) -> float:
    return 100.0 * errors / (errors + successes) if errors + successes else 0.0


def _in_window(series: list[float | None], timeline: Timeline, window: Window) -> list[list[float | None]]:
    return [[series[i] for i in r] for r in window.indices(timeline)]


def observe(measured: Measured, metric: MetricSpec, workload: str | None, window: Window,
            whole_run: bool) -> float | None:
    """The SLO's observed value over the window in the metric's base unit, or None without data."""
    if metric.reduce == "latency":
        return _latency(measured, metric, workload, window)
    if metric.reduce == "summary" and whole_run:
        return _from_summaries(measured.workloads, metric, workload)
    if metric.reduce == "slope":
        lag = per_second(measured.timeline, spec("consume.position_lag"), workload)
        return series_slope(lag, measured.timeline, window) if lag is not None else None
    series = per_second(measured.timeline, metric, workload)
    if series is None:
        return None
    values = [v for span in _in_window(series, measured.timeline, window) for v in span if v is not None]
    if not values:
        return None
    if metric.reduce == "rate":
        return sum(values) / window.seconds if window.seconds else None
    if metric.reduce in ("total", "summary"):
        return sum(values)
    if metric.reduce == "ratio":
        return _window_ratio(measured.timeline, metric, workload, window)
    if metric.reduce == "mean":
        return sum(values) / len(values)
    return min(values) if metric.reduce == "trough" else max(values)


def _window_ratio(timeline: Timeline, metric: MetricSpec, workload: str | None, window: Window) -> float:
    family = metric.metric.split(".")[0]
    errors = per_second(timeline, _errors_spec(family), workload) or []
    counts = per_second(timeline, spec(metric.counts_metric or ""), workload) or []
    e = sum(v for span in _in_window(errors, timeline, window) for v in span if v is not None)
    c = sum(v for span in _in_window(counts, timeline, window) for v in span if v is not None)
    return _percent(e, c)


def merged_histogram(measured: Measured, kind: str, workload: str | None, window: Window) -> Histogram | None:
    """The histograms of every span of the window merged; None when nothing was recorded."""
    merged = Histogram()
    for start, end in window.spans:
        part = measured.histogram(kind, workload, start, end)
        if part is not None:
            merged.merge(part)
    return merged if merged.count else None


def _latency(measured: Measured, metric: MetricSpec, workload: str | None, window: Window) -> float | None:
    merged = merged_histogram(measured, metric.latency_kind or "", workload, window)
    return stat_ms(merged, metric.stat or "max") if merged is not None else None


def _from_summaries(workloads: list[WorkloadSummary], metric: MetricSpec, workload: str | None) -> float | None:
    field = _SUMMARY_FIELD[metric.metric.split(".")[1]]
    values = [getattr(w, field) for w in workloads
              if (workload is None or w.name == workload) and getattr(w, field) is not None]
    return float(sum(values)) if values else None


def first_breach(series: list[float | None], timeline: Timeline, window: Window, holds: Callable[[float], bool],
                 sustained_s: float) -> float | None:
    """Epoch second at which the series first violated the threshold for ``sustained_s`` seconds
    in a row (a missing second breaks the run); with 0, the first violating second."""
    need = max(1, int(round(sustained_s)))
    for r in window.indices(timeline):
        streak_start, streak = None, 0
        for i in r:
            v = series[i]
            if v is not None and not holds(v):
                streak_start = i if streak == 0 else streak_start
                streak += 1
                if streak >= need:
                    return float(timeline.start + (streak_start or 0))
            else:
                streak = 0
    return None


def _judged(series: list[float | None], metric: MetricSpec) -> list[float | None]:
    """The series a streak is judged on: a rate second without data delivered nothing."""
    return [0.0 if v is None else v for v in series] if metric.reduce == "rate" else series


def stalled_seconds(measured: Measured, metric: MetricSpec, workload: str | None, window: Window,
                    holds: Callable[[float], bool], sources: Feeds) -> int | None:
    """Seconds of the window in which nothing completed while outstanding messages had already
    waited past the threshold; None for metrics without stalls."""
    if metric.latency_kind not in PRODUCER_KINDS + CONSUMER_KINDS:
        return None
    columns = _latency_columns(measured.timeline, metric, workload, sources)
    return sum(1 for r in window.indices(measured.timeline) for i in r
               if any(filled[i] and not holds(values[i]) for values, filled in columns))


def evaluate_one(slo: Slo, measured: Measured, window: Window | None = None,
                 sources: Feeds | None = None) -> SloResult:
    """``window``: judge over this instead of the SLO's own window (a search's probes);
    ``sources``: the native producers of each consumer workload (``stall.feeds(plan)``)."""
    sources = sources or {}
    metric = spec(slo.metric)
    threshold = parse_threshold(slo.threshold, metric.unit, f"slo {slo.name!r}")
    holds = lambda v: OPS[slo.op](v, threshold)  # noqa: E731 - a closure over the op and threshold
    result = dict(name=slo.name, metric=slo.metric, op=slo.op, threshold=threshold, unit=metric.unit,
                  workload=slo.workload, phase=slo.phase, sustained_s=slo.sustained)
    whole_run = slo.phase is None and window is None
    window = window if window is not None else window_for(slo.phase, measured.phases, measured.timeline)
    if window is None or not window.spans:
        return SloResult(**result, observed=None, verdict="no_data")
    result["window_s"] = window.seconds
    observed = observe(measured, metric, slo.workload, window, whole_run=whole_run)
    series = per_second(measured.timeline, metric, slo.workload, sources)
    result["stalled_s"] = stalled_seconds(measured, metric, slo.workload, window, holds, sources)
    if slo.sustained:
        if series is None or all(v is None for span in _in_window(series, measured.timeline, window) for v in span):
            return SloResult(**result, observed=observed, verdict="no_data")
        at = first_breach(_judged(series, metric), measured.timeline, window, holds, slo.sustained)
        return SloResult(**result, observed=observed, verdict="fail" if at is not None else "pass", breached_at=at)
    if observed is None:
        return SloResult(**result, observed=None, verdict="no_data")
    if holds(observed):
        return SloResult(**result, observed=observed, verdict="pass")
    at = first_breach(_judged(series, metric), measured.timeline, window, holds, 0) if series is not None else None
    return SloResult(**result, observed=observed, verdict="fail", breached_at=at)


def evaluate(slos: list[Slo], measured: Measured, windows: dict[str, Window] | None = None,
             sources: Feeds | None = None) -> list[SloResult]:
    """``windows``: by SLO name, windows that replace the SLOs' own (see ``evaluate_one``)."""
    return [evaluate_one(slo, measured, (windows or {}).get(slo.name), sources) for slo in slos]


def run_verdict(results: list[SloResult]) -> str:
    """pass only when every SLO passed; no_data counts as fail (see the module docstring)."""
    return "pass" if all(r.verdict == "pass" for r in results) else "fail"


def explain(r: SloResult) -> str:
    """One line: what was observed against what was required, and when it broke."""
    scope = f" [{r.workload}]" if r.workload else ""
    scope += f" in phase {r.phase}" if r.phase else ""
    unit = "" if r.unit == "count" else f" {r.unit}"
    required = f"{r.metric}{scope} {r.op} {r.threshold:g}{unit}"
    if r.sustained_s:
        required += f" (breach sustained {r.sustained_s:g}s)"
    if r.verdict == "no_data":
        return f"no data for {required}"
    text = f"observed {r.observed:.6g}{unit}, required {required}"
    if r.breached_at is not None:
        stamp = datetime.fromtimestamp(r.breached_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        text += f"; breached at {stamp}"
    if r.stalled_s:
        text += f"; {r.stalled_s} s in which nothing completed while messages had waited past the threshold"
    return text + ("; the run was aborted" if r.aborted_run else "")


class AbortWatch:
    """Checks the plan's ``abort: true`` SLOs while the run is going; the pipeline calls ``check()``
    every few seconds and stops the run on the first breach it returns.

    Live, an SLO is judged on its per-second series from the native runner (rates, errors, position lag and
    the per-second latency percentiles the collector derives): breached when the series violates
    the threshold for ``sustained`` seconds in a row (1 s without ``sustained``), outside warm-up,
    in the SLO's phase if it names one. Metrics with no live series (disk, broker, JMeter,
    lost/duplicated) are judged only after the run. Each check reads only what was appended since
    the previous one (``LiveTail``)."""

    def __init__(self, plan: Plan, run: RunDir):
        self.slos = [s for s in plan.slos if s.abort]
        self.kinds = {p.name: p.kind for p in plan.phases}
        self.sources = feeds(plan)
        self.run = run
        keep = max([int(s.sustained or 1) for s in self.slos] + [1]) + LIVE_MARGIN_S
        self.tail = LiveTail(run, keep_s=keep)

    def check(self, now: float | None = None) -> SloResult | None:
        timeline = self.tail.read(now)
        phases = phase_spans(read_events(self.run.events, Diagnostics(self.run.root)), self.kinds)
        if not timeline.length or not phases:
            return None
        for slo in self.slos:
            metric = spec(slo.metric)
            threshold = parse_threshold(slo.threshold, metric.unit, f"slo {slo.name!r}")
            window = window_for(slo.phase, phases, timeline)
            series = per_second(timeline, metric, slo.workload, self.sources)
            if window is None or series is None:
                continue
            at = first_breach(series, timeline, window, lambda v: OPS[slo.op](v, threshold), slo.sustained or 1)
            if at is not None:
                return SloResult(name=slo.name, metric=slo.metric, op=slo.op, threshold=threshold, unit=metric.unit,
                                 observed=series[int(at) - timeline.start], verdict="fail", workload=slo.workload,
                                 phase=slo.phase, sustained_s=slo.sustained, breached_at=at, aborted_run=True)
        return None
