"""The ``capacity`` answer: the highest rate that held a search's SLOs, from the probes it ran.

Every probe is judged again from what was collected (``steps.judge``, as the search did while it
ran) and the search's own decision rule (``search.next_probe``) is applied to them: when it
concludes, that conclusion is the answer; when it would still probe, the run ended before the
search did and the answer says so. A confirmed answer is a rate and its resolution; a search that
stopped at the load generator's limit, at ``max_rate`` or at ``max_probes`` gives the bounds it
found and what to change, never a capacity it did not measure.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analyze.answers import AnalysisInput, QuestionAnalysis, register
from orchestrator.analyze.search import DELAY_GROWTH_MS, GENERATOR_SHORTFALL, Conclusion, NextProbe, next_probe
from orchestrator.analyze.slo import Measured
from orchestrator.analyze.stall import feeds
from orchestrator.analyze.steps import Judgement, judge, search_phase, search_settings, slot_window
from orchestrator.analyze.window import Window, judged_window
from orchestrator.plan.models import Plan, ProducerWorkload, SearchPhase
from orchestrator.plan.units import format_duration
from orchestrator.summary import Answer, AnswerWindow, SloResult, StepSpan

MIB = 1024 * 1024


@dataclass(frozen=True)
class SearchOutcome:
    phase: SearchPhase
    producer: ProducerWorkload
    judgements: list[Judgement]  # the probes whose measured window was complete, in order
    decision: NextProbe | Conclusion

    @property
    def confirmation(self) -> Judgement | None:
        """The confirmation that held, when the search converged on it."""
        converged = isinstance(self.decision, Conclusion) and self.decision.reason == "converged"
        return self.judgements[-1] if converged else None


def search_outcome(plan: Plan, measured: Measured, steps: list[StepSpan]) -> SearchOutcome | None:
    phase = search_phase(plan)
    if phase is None:
        return None
    producer = next(w for w in plan.workloads if isinstance(w, ProducerWorkload))
    slos = [s for s in plan.slos if s.name in phase.slos]
    done = [s for s in steps if s.phase == phase.name and s.end is not None and s.end >= s.measured_to]
    judgements = [judge(measured, slos, producer.name, span, feeds(plan)) for span in done]
    return SearchOutcome(phase, producer, judgements, next_probe(search_settings(phase), [j.result for j in judgements]))


def search_slo_windows(plan: Plan, measured: Measured, steps: list[StepSpan]) -> dict[str, Window]:
    """The windows a search's SLOs are judged over: the phases before the search (warm-ups
    excluded) and the confirmation at the answer; only those phases when there is no answer."""
    outcome = search_outcome(plan, measured, steps)
    if outcome is None:
        return {}
    others = judged_window([p for p in measured.phases if p.name != outcome.phase.name], measured.timeline)
    spans = others.spans if any(p.name != outcome.phase.name and p.kind != "warmup" for p in measured.phases) else ()
    confirmed = outcome.confirmation
    if confirmed is not None:
        spans = tuple(sorted((*spans, *slot_window(confirmed.span.measured_from, confirmed.span.measured_to).spans)))
    return {name: Window(spans) for name in outcome.phase.slos}


def search_slo_scope(plan: Plan, measured: Measured, steps: list[StepSpan]) -> dict[str, str]:
    """By search SLO, what its verdict was judged over, for the SLO table."""
    outcome = search_outcome(plan, measured, steps)
    if outcome is None:
        return {}
    confirmed = outcome.confirmation
    scope = f"{confirmed.span.name} (the confirmation)" if confirmed else f"{outcome.phase.name} (no confirmed answer)"
    return dict.fromkeys(outcome.phase.slos, scope)


def _requirement(r: SloResult) -> str:
    unit = "" if r.unit == "count" else f" {r.unit}"
    return f"{r.metric} {r.op} {r.threshold:g}{unit}"


def _observed(r: SloResult) -> str:
    unit = "" if r.unit == "count" else f" {r.unit}"
    return f"{r.metric} was {r.observed:.3g}{unit}" if r.observed is not None else f"{r.metric} had no data"


def _rate(value: float) -> str:
    return f"{value:,.0f} msg/s"


def _since(start: float, ts: float) -> str:
    offset = max(0, round(ts - start))
    return f"+{format_duration(offset)}" if offset else "+0s"


class _Report:
    """The rows, windows and sentences of one search outcome."""

    def __init__(self, outcome: SearchOutcome, run_start: float):
        self.outcome, self.run_start = outcome, run_start
        self.by_rate = {j.result.rate: j for j in outcome.judgements}

    def row(self, j: Judgement) -> dict[str, str | float | int | bool | None]:
        r = j.result
        row: dict[str, str | float | int | bool | None] = {
            "probe": j.span.name, "role": j.span.role, "intended_msg_s": r.rate, "achieved_msg_s": r.achieved,
            "achieved_pct": 100.0 * r.achieved / r.rate if r.achieved is not None else None}
        row.update({f"{s.metric} ({s.unit})" if s.unit != "count" else s.metric: s.observed for s in j.slos})
        row.update({"delay_growth_ms": r.delay_growth_ms, "held": r.slos_held and not r.generator_behind,
                    "outcome": r.outcome,
                    # non-breaking spaces keep the window on one line of the report's table
                    "window": f"{_since(self.run_start, j.span.measured_from)}\u00a0▶\u00a0"
                              f"{_since(self.run_start, j.span.measured_to)}"})
        return row

    def window(self, j: Judgement, what: str) -> AnswerWindow:
        return AnswerWindow(label=f"{j.span.name} at {_rate(j.span.rate)} ({what})", start=j.span.measured_from,
                            end=j.span.measured_to)

    def requirements(self) -> str:
        first = self.outcome.judgements[0]
        return " and ".join(_requirement(r) for r in first.slos)

    def failure_at(self, rate: float | None) -> str:
        """'at 40,300 msg/s publish_latency.p99 was 73 ms' for the probe that failed there."""
        j = self.by_rate.get(rate) if rate is not None else None
        if j is None:
            return ""
        broken = [_observed(r) for r in j.slos if r.verdict != "pass"]
        text = f"at {_rate(rate)} {' and '.join(broken)}"
        if j.result.generator_behind and j.result.achieved is not None:
            text += f" (the load generator was behind there too: {_rate(j.result.achieved)} achieved)"
        return text

    def generator_reason(self, j: Judgement) -> str:
        r = j.result
        if r.achieved is None:
            return "nothing was acknowledged"
        if r.achieved < GENERATOR_SHORTFALL * r.rate:
            return f"it sent only {_rate(r.achieved)} ({100 * r.achieved / r.rate:.0f} % of the intended rate)"
        return (f"it fell behind its schedule (median publish delay grew {r.delay_growth_ms:.0f} ms over the "
                f"window, more than {DELAY_GROWTH_MS:.0f} ms)")


@register
class CapacityAnalysis(QuestionAnalysis):
    question = "capacity"

    def applies(self, plan: Plan) -> bool:
        return search_phase(plan) is not None

    def answer(self, data: AnalysisInput) -> Answer:
        outcome = search_outcome(data.plan, data.measured, data.steps)
        if outcome is None:
            raise ValueError("the plan has no search phase")
        if not outcome.judgements:
            return Answer(question="capacity", answered=False, verdict="not measured", section="latency",
                          sentence=f"Capacity: not measured: search {outcome.phase.name!r} finished no probe.")
        run_start = data.measured.phases[0].start if data.measured.phases else outcome.judgements[0].span.start
        report = _Report(outcome, run_start)
        rows = [report.row(j) for j in outcome.judgements]
        decision = outcome.decision
        inputs: dict[str, str | float | int | bool | None] = {
            "phase": outcome.phase.name, "slos": ", ".join(outcome.phase.slos), "resolution": outcome.phase.resolution,
            "probes": len(outcome.judgements), "workload": outcome.producer.name,
            "instances": outcome.producer.instances}
        common = dict(question="capacity", rows=rows, section="latency")
        slos = report.requirements()
        if isinstance(decision, NextProbe):
            return Answer(**common, answered=False, verdict="search unfinished", inputs=inputs,
                          sentence=f"Capacity at {slos}: not found: the run ended after {len(outcome.judgements)} "
                                   f"probe(s), before the search did (it would have probed {_rate(decision.rate)} next).")
        inputs.update({"held_msg_s": decision.held, "failed_msg_s": decision.failed, "stopped": decision.reason})
        last = outcome.judgements[-1]
        if decision.reason == "converged":
            mib = f" ({last.achieved_mb * 1e6 / MIB:.1f} MiB/s)" if last.achieved_mb is not None else ""
            failure = report.failure_at(decision.failed)
            windows = [report.window(last, "confirmation")]
            if decision.failed in report.by_rate:
                windows.append(report.window(report.by_rate[decision.failed], "first rate that failed"))
            return Answer(**common, value=decision.capacity, unit="msg/s", verdict="confirmed", windows=windows,
                          inputs=inputs, sentence=f"Capacity at {slos}: {_rate(decision.capacity)}{mib} "
                                                  f"+/- {outcome.phase.resolution * 100:g} %" + (f"; {failure}." if failure else "."))
        at_least = f"the capacity is at least {_rate(decision.held)}" if decision.held else "no rate held"
        if decision.reason == "generator":
            instances = outcome.producer.instances
            sentence = (f"Capacity at {slos}: not found: the load generator, not the cluster, was the limit: at "
                        f"{_rate(decision.limit)} {report.generator_reason(last)} while the SLOs held; {at_least}. "
                        f"For more load raise workloads.{outcome.producer.name}.instances (now {instances}; each "
                        f"instance is one process, about one core) or run the load from a machine with more cores.")
            return Answer(**common, answered=False, verdict="generator-limited", windows=[report.window(last, "generator limit")],
                          inputs=inputs, sentence=sentence)
        if decision.reason == "max_rate":
            sentence = (f"Capacity at {slos}: above max_rate: every probe held, up to {_rate(decision.held)}; "
                        f"raise phases.{outcome.phase.name}.max_rate to find it.")
            return Answer(**common, answered=False, verdict="above max_rate", inputs=inputs, sentence=sentence)
        if decision.reason == "min_rate":
            sentence = f"Capacity at {slos}: no rate held; {report.failure_at(decision.failed)}."
            return Answer(**common, answered=False, verdict="none held", inputs=inputs, sentence=sentence)
        resolution, limit = outcome.phase.resolution, outcome.phase.max_probes
        if decision.held and decision.failed and decision.failed <= decision.held * (1.0 + resolution):
            # narrow enough, but failures that did not repeat sent the search back up: a noisy system
            results = [j.result for j in outcome.judgements]
            unrepeated = sum(1 for i, r in enumerate(results) if r.outcome == "failed"
                             and any(later.outcome == "held" and later.rate >= r.rate for later in results[i + 1:]))
            sentence = (f"Capacity at {slos}: between {_rate(decision.held)} (held) and {_rate(decision.failed)} "
                        f"(failed), {(decision.failed / decision.held - 1) * 100:.1f} % apart, but not confirmed within "
                        f"max_probes {limit}: " + (
                            f"{unrepeated} probe(s) failed at a rate that held on a later probe, so the search went "
                            f"back up; raise max_probes, or find what disturbed those probes (the per-probe table "
                            f"shows them)." if unrepeated else
                            "the limit came before the failure's repeat and the confirmation; raise max_probes."))
        else:
            between = (f"between {_rate(decision.held)} (held) and {_rate(decision.failed)} (failed)"
                       if decision.held and decision.failed else at_least)
            sentence = (f"Capacity at {slos}: not narrowed to {resolution * 100:g} % within "
                        f"max_probes {limit}: {between}; raise max_probes or resolution.")
        return Answer(**common, answered=False, verdict="not converged", inputs=inputs, sentence=sentence)
