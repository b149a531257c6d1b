"""The questions a run answers: one ``QuestionAnalysis`` per question, registered by its id.

Each analysis decides from the plan whether the run was built to answer its question (a search
phase for capacity, a drain phase for consumer rate, ...), and then turns the measurements into an
``Answer``: one sentence with its number, the windows the number was measured over, and the
evidence behind it. An analysis that cannot answer from what was measured says so in an answer
with ``answered=False`` rather than guessing; an analysis that fails on bad data costs its own
answer (a warning), never the run's other outputs.

Adding a question is a subclass with ``question`` set and ``@register``; nothing else changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from orchestrator.analyze.slo import Measured
from orchestrator.analyze.window import Window
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.plan.models import Plan
from orchestrator.summary import Answer, Event, SloResult, StepSpan


@dataclass(frozen=True)
class AnalysisInput:
    plan: Plan
    measured: Measured
    window: Window  # the judged window: the run without its warm-up
    slos: list[SloResult]
    local_free_bytes: float | None = None  # free space under the local broker's data dir, if local
    steps: list[StepSpan] = field(default_factory=list)  # steps and search probes, from the events
    cluster: ClusterFacts = field(default_factory=ClusterFacts)  # what the admin samples said about the cluster
    events: list[Event] = field(default_factory=list)  # the run's events (a drain's release, ...)


class QuestionAnalysis(ABC):
    question: ClassVar[str]

    @abstractmethod
    def applies(self, plan: Plan) -> bool:
        """Whether this plan was built to answer the question."""

    @abstractmethod
    def answer(self, data: AnalysisInput) -> Answer:
        """The answer; ``answered=False`` with the reason in ``sentence`` when the data cannot say."""


ANALYSES: dict[str, QuestionAnalysis] = {}


def register(cls: type[QuestionAnalysis]) -> type[QuestionAnalysis]:
    if cls.question in ANALYSES:
        raise ValueError(f"question {cls.question!r} registered twice")
    ANALYSES[cls.question] = cls()
    return cls


def answer_questions(data: AnalysisInput) -> tuple[list[Answer], list[str]]:
    """Answers in registry order, and a warning per analysis that failed on the data."""
    answers, warnings = [], []
    for question, analysis in ANALYSES.items():
        if not analysis.applies(data.plan):
            continue
        try:
            answers.append(analysis.answer(data))
        except (ValueError, ArithmeticError, KeyError) as err:
            warnings.append(f"answer {question}: not computed: {err}")
    return answers, warnings
