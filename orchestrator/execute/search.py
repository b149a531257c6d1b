"""A search phase while it runs: judge each probe once its measured window has settled, decide the
next one (``orchestrator.analyze.search``), and tell the runners through the control file.

Each probe starts on the runners' one-second interval grid (``start_at`` + whole seconds), at
least ``LEAD_S`` after it is announced, so every instance changes rate at the same moment and no
interval mixes two probes. A probe is recorded as ``step_start``/``step_end`` events; its
``step_end`` detail says how it went. The search ends, and announces its end the same way, when
the decision is a conclusion, or when the next probe would not fit in the phase's bound.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

from orchestrator.analyze.live import SETTLE_S, LiveMeasured, LiveTail
from orchestrator.analyze.search import Conclusion, NextProbe, ProbeResult, next_probe
from orchestrator.analyze.stall import feeds
from orchestrator.analyze.steps import Judgement, judge, measured_window, search_phase, search_settings
from orchestrator.collect.histograms import HistogramStore
from orchestrator.events import EventLog, step_detail, step_name
from orchestrator.plan.models import Plan, ProducerWorkload
from orchestrator.rundir import RunDir
from orchestrator.runner.control import Control, Probe, write_control
from orchestrator.summary import StepSpan

LEAD_S = 1.0  # runners look at the control file every 0.1 s: a second ahead reaches them all
KEEP_MARGIN_S = 10


def outcome_text(judgement: Judgement) -> str:
    """How a probe went, for its step_end event."""
    result = judgement.result
    broken = [f"{r.name} {r.observed:.4g}{'' if r.unit == 'count' else ' ' + r.unit}" if r.observed is not None
              else f"{r.name} no data" for r in judgement.slos if r.verdict != "pass"]
    achieved = "nothing acknowledged" if result.achieved is None else f"achieved {result.achieved:.0f} msg/s"
    if result.outcome == "failed":
        return f"failed: {', '.join(broken)}; {achieved}"
    if result.outcome == "generator":
        return f"generator-limited: {achieved} of {result.rate:.0f}"
    return f"held; {achieved}"


class SearchDriver:
    def __init__(self, plan: Plan, run: RunDir, events: EventLog, phase_start: float, start_at: float):
        phase = search_phase(plan)
        if phase is None:
            raise ValueError("the plan has no search phase")
        self.phase, self.run, self.events, self.start_at = phase, run, events, start_at
        self.producer = next(w for w in plan.workloads if isinstance(w, ProducerWorkload))
        self.slos = [s for s in plan.slos if s.name in phase.slos]
        self.sources = feeds(plan)
        self.settings = search_settings(phase)
        self.bound = phase_start + phase.duration
        self._tmp = Path(tempfile.mkdtemp(prefix="orchestrate-search-"))
        self.store = HistogramStore(self._tmp / "histograms.jsonl")
        keep = int(phase.settle + max(phase.measure, phase.confirm) + SETTLE_S) + KEEP_MARGIN_S
        self.tail = LiveTail(run, keep_s=keep, histograms=self.store)
        self.results: list[ProbeResult] = []
        self.probes: list[Probe] = []
        self.current: StepSpan | None = None
        self.ended: float | None = None
        self._announced: tuple[str, str, float] | None = None  # a step_start to write once it begins
        self._begin(NextProbe(self.settings.start, "probe"), phase_start)

    def _span(self, n: int, step: NextProbe, start: float) -> StepSpan:
        begin, until = measured_window(self.phase, step.role, start, start)
        return StepSpan(name=step_name(self.phase.name, n), phase=self.phase.name, role=step.role, rate=step.rate,
                        start=start, measured_from=begin, measured_to=until)

    def _begin(self, step: NextProbe, start: float) -> None:
        self.current = self._span(len(self.probes) + 1, step, start)
        per_instance = step.rate / self.producer.instances
        self.probes.append(Probe(self.current.name, int(start * 1e9), {self.producer.name: per_instance}))
        write_control(self.run.control, Control(tuple(self.probes)))
        self._announced = (self.current.name, step_detail(step.role, step.rate), start)

    def _end(self, at: float, detail: str) -> None:
        write_control(self.run.control, Control(tuple(self.probes), int(at * 1e9)))
        if self.current is not None:
            self.events.write("step_end", self.current.name, detail, ts=at)
        self.ended = at

    def _grid_after(self, t: float) -> float:
        return self.start_at + math.ceil(t - self.start_at)

    def poll(self, now: float) -> float | None:
        """The time the search ends, once it is decided; None while it goes on. Call it after the
        phase clock has advanced to ``now``, so a probe's step_start follows its phase_start."""
        if self._announced is not None and now >= self._announced[2]:
            name, detail, start = self._announced
            self.events.write("step_start", name, detail, ts=start)
            self._announced = None
        span = self.current
        if self.ended is not None or span is None or now < span.measured_to + SETTLE_S + 1:
            return self.ended
        judgement = judge(LiveMeasured(self.tail.read(now), self.store), self.slos, self.producer.name, span,
                          self.sources)
        self.results.append(judgement.result)
        decision = next_probe(self.settings, self.results)
        start = self._grid_after(now + LEAD_S)
        if isinstance(decision, NextProbe):
            ends = self._span(0, decision, start).measured_to + SETTLE_S + 1
            if ends > self.bound:
                self._end(start, f"{outcome_text(judgement)}; the next probe would end after the phase's bound")
                return self.ended
            self.events.write("step_end", span.name, outcome_text(judgement), ts=start)
            self._begin(decision, start)
            return None
        self._end(start, f"{outcome_text(judgement)}; search over: {_conclusion_text(decision)}")
        return self.ended

    def close(self, now: float) -> None:
        """End a search cut short (abort, interrupt, failure), and drop the live histograms."""
        if self.ended is None and self._announced is None:
            self._end(now, "cut short")
        elif self.ended is None:  # the probe was announced but never began
            self.current = None
            self._end(now, "")
        self.store.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


_CONCLUSIONS = {"generator": "the load generator is the limit", "max_rate": "max_rate held",
                "min_rate": "nothing held", "probe_limit": "max_probes reached"}


def _conclusion_text(conclusion: Conclusion) -> str:
    if conclusion.reason == "converged":
        return f"confirmed {conclusion.capacity:.0f} msg/s"
    return _CONCLUSIONS[conclusion.reason]
