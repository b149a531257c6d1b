"""Steps and probes: the named stretches inside a ``steps`` or ``search`` phase, and their verdicts.

Each step of a ``steps`` phase and each probe of a ``search`` is recorded as a ``step_start`` event
(name ``<phase>/<n>``, detail ``"<role> <rate> msg/s"``) and a ``step_end`` event. A step is judged
over its whole length; a probe over its measured window, after its settle (see ``SearchPhase``).
``judge`` gives one probe's verdict the same way while the search runs (on the live tail) and
when the report is built (on everything collected), so both see the same probes the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from orchestrator.analyze.latency import stat_ms
from orchestrator.analyze.search import ProbeResult, Role, SearchSettings
from orchestrator.analyze.slo import Measured, evaluate_one, merged_histogram, observe
from orchestrator.analyze.stall import Feeds
from orchestrator.analyze.window import Window
from orchestrator.plan.metrics import spec
from orchestrator.plan.models import Phase, Plan, SearchPhase, Slo
from orchestrator.summary import Event, SloResult, StepSpan

_DETAIL = re.compile(r"^(step|probe|confirm) ([0-9.eE+-]+) msg/s")


def measured_window(phase: Phase, role: str, start: float, end: float) -> tuple[float, float]:
    """The stretch of a step that judges it: a probe's settle is left out, a step counts whole."""
    if isinstance(phase, SearchPhase):
        begin = start + phase.settle
        return begin, begin + (phase.confirm if role == "confirm" else phase.measure)
    return start, end


def search_phase(plan: Plan) -> SearchPhase | None:
    return next((p for p in plan.phases if isinstance(p, SearchPhase)), None)


def search_settings(phase: SearchPhase) -> SearchSettings:
    return SearchSettings(start=float(phase.start_rate), max_rate=float(phase.max_rate), growth=phase.growth,
                          resolution=phase.resolution, max_probes=phase.max_probes)


def step_spans(events: list[Event], plan: Plan) -> list[StepSpan]:
    """The steps and probes the events record, in start order; a step without an end keeps end None."""
    phases = {p.name: p for p in plan.phases}
    spans: list[StepSpan] = []
    open_at: dict[str, int] = {}
    for event in events:
        if event.kind == "step_start":
            phase = phases.get(event.name.rpartition("/")[0])
            match = _DETAIL.match(event.detail)
            if phase is None or match is None:
                continue
            role, rate = match.group(1), float(match.group(2))
            length = phase.step_duration if phase.kind == "steps" else 0.0
            begin, until = measured_window(phase, role, event.ts, event.ts + length)
            open_at[event.name] = len(spans)
            spans.append(StepSpan(name=event.name, phase=phase.name, role=role, rate=rate, start=event.ts,
                                  measured_from=begin, measured_to=until))
        elif event.kind == "step_end" and event.name in open_at:
            index = open_at.pop(event.name)
            span = spans[index]
            until = min(span.measured_to, event.ts) if span.role == "step" else span.measured_to  # cut short
            spans[index] = span.model_copy(update={"end": event.ts, "measured_to": until})
    return spans


def slot_window(begin: float, until: float) -> Window:
    """The whole seconds at which the collector puts the runners' intervals that start within
    [begin, until): an interval goes to the second of its midpoint."""
    return Window(((float(math.floor(begin + 0.5)), float(math.floor(until + 0.5))),))


@dataclass(frozen=True)
class Judgement:
    span: StepSpan
    result: ProbeResult
    slos: list[SloResult]  # each SLO over the measured window
    achieved_mb: float | None  # MB/s (10^6 B) acknowledged


def _median_delay_ms(measured: Measured, workload: str, begin: float, until: float) -> float | None:
    merged = merged_histogram(measured, "publish_delay", workload, Window(((begin, until),)))
    return stat_ms(merged, "p50") if merged is not None else None


def _delay_growth_ms(measured: Measured, workload: str, window: Window) -> float | None:
    """Median publish delay of the window's last third minus its first: a generator that falls
    behind its schedule sends every message later than the one before."""
    begin, until = window.spans[0]
    third = max(1.0, float(int((until - begin) // 3)))
    first = _median_delay_ms(measured, workload, begin, begin + third)
    last = _median_delay_ms(measured, workload, until - third, until)
    return None if first is None or last is None else last - first


def judge(measured: Measured, slos: list[Slo], workload: str, span: StepSpan, sources: Feeds | None = None) -> Judgement:
    """One step's verdict: every SLO over its measured window, and what the generator achieved.
    ``sources``: the native producers of each consumer workload (``stall.feeds``)."""
    window = slot_window(span.measured_from, span.measured_to)
    results = [evaluate_one(slo, measured, window, sources) for slo in slos]
    achieved = observe(measured, spec("produce.rate"), workload, window, whole_run=False)
    mb = observe(measured, spec("produce.throughput_mb"), workload, window, whole_run=False)
    role: Role = "confirm" if span.role == "confirm" else "probe"
    result = ProbeResult(rate=span.rate, role=role, slos_held=all(r.verdict == "pass" for r in results),
                         achieved=achieved, delay_growth_ms=_delay_growth_ms(measured, workload, window))
    return Judgement(span, result, results, mb)
