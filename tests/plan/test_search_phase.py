"""The search phase: its fields, its bound, and the one-line errors of a search that cannot work."""

from __future__ import annotations

import pytest
import yaml

from orchestrator.plan.models import PROBE_DECISION_S, Plan

from .sample import BASE

# BASE's lines 1-12 (producer p, consumer c), then: 13 phases, 14 - name: warm, 17 - name: find,
# 18 kind, 19 slos, 20 start_rate, 21 max_rate, 22 resolution, 23 settle, 24 measure, 25 confirm,
# 26 slos:, 27 - name: p99 ... 30 - name: errors
SEARCH = BASE[:BASE.index("phases:")] + """\
phases:
  - name: warm
    kind: warmup
    duration: 5s
  - name: find
    kind: search
    slos: [p99, errors]
    start_rate: 1k/s
    max_rate: 100k/s
    resolution: 10%
    settle: 2s
    measure: 10s
    confirm: 20s
slos:
  - name: p99
    metric: publish_latency.p99
    threshold: 20ms
  - name: errors
    metric: produce.errors
    threshold: 0
"""


def test_a_search_plan_loads_with_its_defaults_and_bound() -> None:
    plan = Plan.model_validate(yaml.safe_load(SEARCH))
    find = plan.phases[1]
    assert (find.kind, find.slos, find.start_rate, find.max_rate) == ("search", ["p99", "errors"], 1000.0, 100_000.0)
    assert (find.growth, find.resolution, find.max_probes) == (2.0, 0.1, 20)
    assert find.duration == 20 * (2 + 20 + PROBE_DECISION_S)
    assert plan.model_dump(mode="json", by_alias=True)["phases"][1]["resolution"] == "10%"


CASES = [
    pytest.param(SEARCH.replace("    slos: [p99, errors]\n", ""),
                 ["PLAN:17:5: phases.1.slos: search 'find' names no SLO to search on: list the names of the SLOs "
                  "each probe must hold under 'slos'"], id="no-slo"),
    pytest.param(SEARCH.replace("[p99, errors]", "[p99, eror]"),
                 ["PLAN:19:17: phases.1.slos.1: no SLO named 'eror'; did you mean 'errors'?"], id="unknown-slo"),
    pytest.param(SEARCH.replace("    threshold: 20ms\n", "    threshold: 20ms\n    abort: true\n"),
                 ["PLAN:30:12: slos.0.abort: search 'find' searches on SLO 'p99': probes above the capacity break "
                  "it by design, so it cannot abort the run"], id="abort"),
    pytest.param(SEARCH.replace("    threshold: 20ms\n", "    threshold: 20ms\n    sustained: 15s\n"),
                 ["PLAN:30:16: slos.0.sustained: sustained 15s is longer than the 10s measure window of search 'find'"],
                 id="sustained"),
    pytest.param(SEARCH.replace("    threshold: 20ms\n", "    threshold: 20ms\n    phase: warm\n"),
                 ["PLAN:30:12: slos.0.phase: search 'find' searches on SLO 'p99', which is judged only in phase "
                  "'warm': remove 'phase' or name 'find'"], id="other-phase"),
    pytest.param(SEARCH.replace("metric: produce.errors", "metric: broker.under_replicated"),
                 ["PLAN:19:17: phases.1.slos.1: SLO 'errors' (broker.under_replicated) is known only after the run; "
                  "a search judges each probe as it ends, on what the native clients report every second: produce.*, "
                  "consume.rate/throughput_mb/errors/error_rate/position_lag/lag_growth and the latencies"], id="not-live"),
    pytest.param(SEARCH.replace("resolution: 10%", "resolution: 5%"),
                 ["PLAN:22:17: phases.1.resolution: resolution 5% is finer than a 10s measure window can tell rates "
                  "apart (1 part in 10): use a resolution of at least 10% or a measure window of at least 20s"],
                 id="resolution-finer-than-the-window"),
    pytest.param(SEARCH.replace("start_rate: 1k/s", "start_rate: 50/s"),
                 ["PLAN:24:14: phases.1.measure: at 50 msg/s a 10s measure window holds 500 messages, too few for "
                  "the p99 of SLO 'p99' (at least 1,000): raise start_rate or measure"], id="too-few-samples"),
    pytest.param(SEARCH.replace("max_rate: 100k/s", "max_rate: 1k/s"),
                 ["PLAN:21:15: phases.1.max_rate: max_rate (1000/s) must be above start_rate (1000/s)"], id="max-rate"),
    pytest.param(SEARCH.replace("max_rate: 100k/s", "max_rate: max"),
                 ["PLAN:21:15: phases.1.max_rate: a search needs numeric rates such as '1k/s', not 'max'"], id="max"),
    pytest.param(SEARCH.replace("confirm: 20s", "confirm: 5s"),
                 ["PLAN:25:14: phases.1.confirm: confirm (5s) is shorter than measure (10s): the confirmation is the "
                  "longest look at the answer"], id="short-confirm"),
    pytest.param(SEARCH.replace("resolution: 10%", "resolution: 150%"),
                 ["PLAN:22:17: phases.1.resolution: a fraction must be above 0 and below 1 (100%), got 1.5"],
                 id="fraction"),
    pytest.param(SEARCH.replace("    rate: 1k/s\n", "    rate: 1k/s\n    engine: jmeter\n", 1),
                 ["PLAN:10:13: workloads.0.engine: a search tells the runners each probe's rate and its end as it "
                  "goes, which only the native engine can follow: workload 'p' uses jmeter"], id="jmeter"),
    pytest.param(SEARCH.replace("  - name: p\n    kind: producer\n    topic: orders\n    rate: 1k/s\n",
                                "  - name: p\n    kind: producer\n    topic: orders\n    rate: 1k/s\n    max_messages: 5\n"),
                 ["PLAN:10:19: workloads.0.max_messages: max_messages would stop workload 'p' in the middle of the "
                  "search: remove it"], id="max-messages"),
    pytest.param(SEARCH.replace("  - name: p\n    kind: producer\n    topic: orders\n    rate: 1k/s\n",
                                "  - name: p\n    kind: producer\n    topic: orders\n    rate: 1k/s\n"
                                "  - name: q\n    kind: producer\n    topic: orders\n"),
                 ["PLAN:21:11: phases.1.kind: a search sets the rate of one producer workload, and the plan has 2 (p, q)"],
                 id="two-producers"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rejected(reject, text: str, expected: list[str]) -> None:
    assert reject(text) == expected


def test_a_search_must_be_the_last_phase(reject) -> None:
    text = SEARCH.replace("slos:\n  - name: p99", "  - name: after\n    kind: steady\n    duration: 5s\nslos:\n  - name: p99")
    assert reject(text) == ["PLAN:18:11: phases.1.kind: a search must be the last phase: it ends when it has its "
                            "answer, so nothing can be scheduled after it"]
