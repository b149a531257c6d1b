"""The ``consumer_rate`` answer: at what sustained rate can the consumers process the data?

Two ways to ask, alone or together (``consumer`` has the figures):

- a ``drain`` phase: how fast the consumers read a backlog built before they started, from their
  first message to the backlog's last (OpenMessaging Benchmark's backlog mode,
  kafka-consumer-perf-test);
- an SLO on ``consume.lag_growth`` (the slope of the position lag): under a producer rate, whether
  the lag stayed bounded over the judged window (warm-up excluded); when a search phase searches
  on that SLO, the highest input rate at which it did, from the search's own conclusion.

"4 consumers drained a 2.0 GiB backlog at 312 MiB/s (3.2 M msg/s) in 6.6 s; lag stayed bounded up
to 41,000 msg/s of input." The headline value is the drain rate when there is a drain, else the
input rate at which the lag was judged (the search's answer, or the window's input rate).
"""

from __future__ import annotations

from orchestrator.analyze.answers import AnalysisInput, QuestionAnalysis, register
from orchestrator.analyze.capacity import search_outcome
from orchestrator.analyze.consumer import Drain, consumer_instances, drain_figures, drain_phase, sustain_figures
from orchestrator.analyze.retention import format_elapsed, format_size
from orchestrator.analyze.search import Conclusion
from orchestrator.analyze.steps import search_phase
from orchestrator.analyze.window import window_for
from orchestrator.plan.models import ConsumerWorkload, Plan
from orchestrator.plan.units import format_duration
from orchestrator.summary import Answer, AnswerWindow, SloResult

LAG_METRIC = "consume.lag_growth"
MIB = 1024 * 1024


def rate_text(value: float) -> str:
    """'41,000 msg/s', '3.2 M msg/s'."""
    return f"{value / 1e6:.2g} M msg/s" if value >= 1e6 else f"{value:,.0f} msg/s"


def _consumers(plan: Plan) -> str:
    n = consumer_instances(plan)
    return f"{n} consumer{'s' if n != 1 else ''}"


def _lag_slos(data: AnalysisInput) -> list[SloResult]:
    return [r for r in data.slos if r.metric == LAG_METRIC]


def _searched_on_lag(plan: Plan) -> bool:
    phase = search_phase(plan)
    lag = {s.name for s in plan.slos if s.metric == LAG_METRIC}
    return phase is not None and bool(lag & set(phase.slos))


class _Parts:
    """The clauses of the sentence and the evidence behind them, gathered part by part."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.verdicts: list[str] = []
        self.windows: list[AnswerWindow] = []
        self.inputs: dict[str, str | float | int | bool | None] = {}
        self.value: float | None = None
        self.answered = True


def _drain(data: AnalysisInput, parts: _Parts) -> None:
    phase = drain_phase(data.plan)
    drain = drain_figures(data.plan, data.measured, data.events)
    if phase is None:
        return
    if drain is None:
        parts.answered = False
        parts.verdicts.append("not drained")
        parts.clauses.append(f"{_consumers(data.plan)} drained nothing: the backlog of drain {phase.name!r} was "
                             f"not acknowledged within the phase (timeout {format_duration(phase.timeout)}), so "
                             "the consumers were never released")
        return
    parts.inputs.update(_drain_inputs(drain))
    rate, nbytes = drain.msgs_per_s, drain.bytes_per_s
    if drain.first is not None and drain.until is not None:
        parts.windows.append(AnswerWindow(label="drain (first message to backlog read)", start=drain.first, end=drain.until))
    size = format_size(drain.backlog_bytes, binary=True)
    if rate is None or nbytes is None:
        parts.answered = False
        parts.verdicts.append("not drained")
        parts.clauses.append(f"{_consumers(data.plan)} read nothing of a {size} backlog "
                             f"({drain.backlog_messages:,} messages) after they were released")
        return
    parts.value = rate
    measured = f"at {nbytes / MIB:.3g} MiB/s ({rate_text(rate)})"
    if drain.drained:
        parts.verdicts.append("drained")
        parts.clauses.append(f"{_consumers(data.plan)} drained a {size} backlog {measured} in "
                             f"{format_elapsed(drain.seconds)}")
    else:
        parts.answered = False
        parts.verdicts.append("not drained")
        parts.clauses.append(f"{_consumers(data.plan)} read {drain.read_messages:,.0f} of a {size} backlog "
                             f"({drain.backlog_messages:,} messages) {measured} and had not drained it when "
                             f"drain {drain.phase!r} ended")


def _drain_inputs(drain: Drain) -> dict[str, str | float | int | bool | None]:
    return {"drain_phase": drain.phase, "backlog_messages": drain.backlog_messages, "backlog_bytes": drain.backlog_bytes,
            "read_messages": drain.read_messages, "drain_s": drain.seconds, "drain_msg_s": drain.msgs_per_s,
            "drain_MiB_s": drain.bytes_per_s / MIB if drain.bytes_per_s is not None else None,
            "released": drain.released}


def _search(data: AnalysisInput, parts: _Parts) -> None:
    outcome = search_outcome(data.plan, data.measured, data.steps)
    if outcome is None:
        return
    decision = outcome.decision
    parts.inputs.update({"search_phase": outcome.phase.name, "probes": len(outcome.judgements)})
    confirmed = outcome.confirmation
    if confirmed is not None and isinstance(decision, Conclusion):
        parts.value = parts.value if parts.value is not None else decision.capacity
        parts.verdicts.append("bounded up to")
        parts.inputs["bounded_up_to_msg_s"] = decision.capacity
        parts.windows.append(AnswerWindow(label=f"{confirmed.span.name} (confirmation)", start=confirmed.span.measured_from,
                                          end=confirmed.span.measured_to))
        parts.clauses.append(f"lag stayed bounded up to {decision.capacity:,.0f} msg/s of input "
                             f"(+/- {outcome.phase.resolution * 100:g} %)")
        return
    parts.answered = False
    parts.verdicts.append("not found")
    if not isinstance(decision, Conclusion):
        parts.clauses.append("the highest input rate with bounded lag was not found: the run ended before the search did")
        return
    held = f"; it stayed bounded at {decision.held:,.0f} msg/s" if decision.held else ""
    why = {"generator": f"the load generator was the limit at {(decision.limit or 0):,.0f} msg/s",
           "max_rate": "lag stayed bounded at every rate probed, up to max_rate",
           "min_rate": f"lag grew even at {(decision.failed or 0):,.0f} msg/s",
           "probe_limit": "the search was not narrowed within max_probes"}[decision.reason]
    parts.clauses.append(f"the highest input rate with bounded lag was not found: {why}{held}")


def _sustain(data: AnalysisInput, parts: _Parts) -> None:
    """Without a search: the lag SLOs over their own windows, against the input rate there."""
    measured = data.measured
    for slo in _lag_slos(data):
        window = window_for(slo.phase, measured.phases, measured.timeline)
        if window is None:
            continue
        figures = sustain_figures(measured, window, slo.workload)
        rate = figures.input_msgs_per_s
        parts.inputs.update({"input_msg_s": rate, "consumed_msg_s": figures.consumed_msgs_per_s,
                             "lag_growth_msg_s": slo.observed, "lag_growth_limit_msg_s": slo.threshold,
                             "max_lag": figures.max_lag, "lag_slo": slo.name})
        if window.spans:
            parts.windows.append(AnswerWindow(label="lag growth fit (warm-up excluded)", start=window.spans[0][0],
                                              end=window.spans[-1][1]))
        at = f"at {rate_text(rate)} of input" if rate is not None else "with no input measured"
        if parts.value is None and rate is not None:
            parts.value = rate
        if slo.observed is None:
            parts.answered = False
            parts.verdicts.append("no data")
            parts.clauses.append(f"{at} the lag was not measured (SLO {slo.name!r})")
        elif slo.verdict == "pass":
            parts.verdicts.append("bounded")
            parts.clauses.append(f"{at} lag stayed bounded (it grew {slo.observed:+,.1f} msg/s over "
                                 f"{format_elapsed(window.seconds)}, limit {slo.threshold:,.4g})")
        else:
            parts.verdicts.append("unbounded")
            parts.clauses.append(f"{at} lag was not bounded: it grew {slo.observed:+,.1f} msg/s over "
                                 f"{format_elapsed(window.seconds)} (limit {slo.threshold:,.4g})")


@register
class ConsumerRateAnalysis(QuestionAnalysis):
    question = "consumer_rate"

    def applies(self, plan: Plan) -> bool:
        return drain_phase(plan) is not None or any(s.metric == LAG_METRIC for s in plan.slos)

    def answer(self, data: AnalysisInput) -> Answer:
        parts = _Parts()
        _drain(data, parts)
        if _searched_on_lag(data.plan):
            _search(data, parts)
        else:
            _sustain(data, parts)
        cost = next((w.processing for w in data.plan.workloads
                     if isinstance(w, ConsumerWorkload) and w.processing is not None), None)
        parts.inputs.update({"consumers": consumer_instances(data.plan),
                             "processing_mean_s": cost.mean_s if cost is not None else None})
        sentence = "; ".join(parts.clauses)
        return Answer(question="consumer_rate", sentence=sentence[:1].upper() + sentence[1:] + ".", value=parts.value,
                      unit="msg/s" if parts.value is not None else "", verdict=", ".join(parts.verdicts) or None,
                      answered=parts.answered, windows=parts.windows, inputs=parts.inputs,
                      section="throughput" if drain_phase(data.plan) is not None else "lag")
