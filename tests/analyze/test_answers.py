from __future__ import annotations

import pytest
import yaml

from orchestrator.analyze import answers
from orchestrator.analyze.answers import AnalysisInput, QuestionAnalysis, answer_questions, register
from orchestrator.analyze.window import whole_timeline
from orchestrator.plan.models import Plan
from orchestrator.report.build import write_outputs
from orchestrator.rundir import RunDir
from orchestrator.summary import Answer, AnswerWindow
from tests.fakes import PLAN_YAML, T0, rich_measured


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(answers, "ANALYSES", {})
    return answers.ANALYSES


def _register(question: str, applies: bool = True, fails: bool = False):
    class Fake(QuestionAnalysis):
        def applies(self, plan):
            return applies

        def answer(self, data):
            if fails:
                raise ValueError("no growth window")
            return Answer(question=question, sentence=f"{question}: 42 msg/s", value=42.0, unit="msg/s",
                          verdict="fits", windows=[AnswerWindow(label="measured", start=T0 + 10, end=T0 + 70)],
                          rows=[{"probe": 1, "rate": 40.0, "held": True}], section="workloads")
    Fake.question = question
    return register(Fake)


def _input():
    measured = rich_measured(60)
    plan = Plan.model_validate(yaml.safe_load(PLAN_YAML))
    return AnalysisInput(plan, measured, whole_timeline(measured.timeline), [])


def test_only_analyses_that_apply_answer_in_registry_order(registry):
    _register("disk")
    _register("capacity", applies=False)
    _register("consumer_rate")
    found, warnings = answer_questions(_input())
    assert [a.question for a in found] == ["disk", "consumer_rate"] and warnings == []


def test_a_failing_analysis_costs_only_its_own_answer(registry):
    _register("disk", fails=True)
    _register("capacity")
    found, warnings = answer_questions(_input())
    assert [a.question for a in found] == ["capacity"]
    assert warnings == ["answer disk: not computed: no growth window"]


def test_a_question_registers_once(registry):
    _register("disk")
    with pytest.raises(ValueError, match="registered twice"):
        _register("disk")


def test_answers_reach_summary_and_the_top_of_the_report(registry, tmp_path):
    _register("capacity")
    run = RunDir.create("demo", explicit=tmp_path / "run")
    run.resolved_plan.write_text(PLAN_YAML)
    summary = write_outputs(run, Plan.model_validate(yaml.safe_load(PLAN_YAML)), rich_measured(120))
    assert [a.sentence for a in summary.answers] == ["capacity: 42 msg/s"]
    html = run.report_html.read_text()
    assert html.index('id="answers"') < html.index('id="slos"')
    assert "capacity: fits" in html.split("</header>")[0]
    assert "measured: +10s ▶ +70s (1m)" in " ".join(html.split())
    assert '<a href="#workloads">evidence</a>' in html


def test_a_run_that_answers_nothing_shows_no_answers_section(registry, tmp_path):
    run = RunDir.create("demo", explicit=tmp_path / "run")
    run.resolved_plan.write_text(PLAN_YAML)
    write_outputs(run, Plan.model_validate(yaml.safe_load(PLAN_YAML)), rich_measured(60))
    assert 'id="answers"' not in run.report_html.read_text()
