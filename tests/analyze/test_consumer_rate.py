"""The consumer_rate answer for a lag-growth SLO without a search: bounded or not at the input rate
of the SLO's window, from synthetic measurements."""

from __future__ import annotations

import yaml

from orchestrator.analyze.answers import AnalysisInput
from orchestrator.analyze.consumer_rate import ConsumerRateAnalysis, rate_text
from orchestrator.analyze.slo import evaluate
from orchestrator.analyze.window import judged_window
from orchestrator.plan.models import Plan
from orchestrator.summary import PhaseSpan
from tests.fakes import T0, make_measured

PLAN = """
metadata: {name: soak}
topics: [{name: t}]
workloads:
  - {name: in, kind: producer, topic: t, rate: 20k/s}
  - {name: out, kind: consumer, topic: t, instances: 3}
phases:
  - {name: warm, kind: warmup, duration: 10s}
  - {name: hold, kind: steady, duration: 50s}
slos:
  - {name: lag-bounded, metric: consume.lag_growth, workload: out, threshold: 100}
"""


def _answer(lag_per_s: float):
    plan = Plan.model_validate(yaml.safe_load(PLAN))
    # the warm-up's lag climbs steeply and is left out; the steady phase grows by lag_per_s
    lag = [500.0 * i if i < 10 else 5000.0 + lag_per_s * (i - 10) + (20 if i % 2 else -20) for i in range(60)]
    measured = make_measured(60, {"produce.rate@in": [20_000.0] * 60, "consume.rate@out": [19_990.0] * 60,
                                  "consume.position_lag@out": lag})
    measured.phases = [PhaseSpan(name="warm", kind="warmup", start=T0, end=T0 + 10),
                       PhaseSpan(name="hold", kind="steady", start=T0 + 10, end=T0 + 60)]
    window = judged_window(measured.phases, measured.timeline)
    slos = evaluate(list(plan.slos), measured)
    analysis = ConsumerRateAnalysis()
    assert analysis.applies(plan)
    return analysis.answer(AnalysisInput(plan, measured, window, slos))


def test_lag_that_stays_flat_after_the_warm_up_is_bounded_at_the_input_rate() -> None:
    answer = _answer(lag_per_s=2.0)
    assert answer.answered and answer.verdict == "bounded" and answer.value == 20_000.0 and answer.unit == "msg/s"
    assert answer.sentence == "At 20,000 msg/s of input lag stayed bounded (it grew +2.0 msg/s over 50s, limit 100)."
    assert answer.inputs["consumers"] == 3 and answer.inputs["lag_slo"] == "lag-bounded"
    assert [(w.label, w.end - w.start) for w in answer.windows] == [("lag growth fit (warm-up excluded)", 50)]


def test_lag_that_grows_is_not_bounded() -> None:
    answer = _answer(lag_per_s=850.0)
    assert answer.verdict == "unbounded" and answer.section == "lag"
    assert answer.sentence == "At 20,000 msg/s of input lag was not bounded: it grew +850.0 msg/s over 50s (limit 100)."


def test_rates_read_as_people_write_them() -> None:
    assert (rate_text(41_000), rate_text(3_200_000)) == ("41,000 msg/s", "3.2 M msg/s")
