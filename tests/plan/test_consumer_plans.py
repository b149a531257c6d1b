"""The drain phase, the consumer's processing cost and the lag-growth metric: their fields and the
one-line errors of a plan that cannot work."""

from __future__ import annotations

import pytest
import yaml

from orchestrator.plan.models import Plan

from .sample import BASE

# BASE's lines 1-12 (producer p, consumer c), then: 13 phases, 14 - name: s, 15 kind, 16 duration,
# 17 - name: d, 18 kind, 19 backlog, 20 timeout, 21 slos:, 22 - name: lag, 23 metric, 24 threshold
DRAIN = BASE + """\
  - name: d
    kind: drain
    backlog: 10MiB
    timeout: 2m
slos:
  - name: lag
    metric: consume.lag_growth
    threshold: 50
"""


def test_a_drain_plan_loads_with_its_bound_and_a_processing_cost() -> None:
    text = DRAIN.replace("    topic: orders\nphases:", "    topic: orders\n    processing: {distribution: normal, "
                                                        "mean: 1ms, stddev: 0.5ms}\nphases:")
    plan = Plan.model_validate(yaml.safe_load(text))
    drain = plan.phases[1]
    assert (drain.kind, drain.backlog, drain.backlog_messages, drain.duration) == ("drain", 10 * 1024**2, None, 120.0)
    assert plan.workloads[1].processing.mean_s == 0.001 and plan.slos[0].metric == "consume.lag_growth"


CASES = [
    pytest.param(DRAIN.replace("    timeout: 2m\n", "    timeout: 2m\n  - name: after\n    kind: steady\n    duration: 5s\n"),
                 ["PLAN:18:11: phases.1.kind: a drain must be the last phase: it ends when the backlog is drained, so "
                  "nothing can be scheduled after it"], id="not-last"),
    pytest.param(DRAIN.replace("  - name: c\n    kind: consumer\n    topic: orders\n", "").replace(
        "slos:\n  - name: lag\n    metric: consume.lag_growth\n    threshold: 50\n", ""),
                 ["PLAN:15:11: phases.1.kind: drain 'd' measures how fast consumers read the backlog, and the plan "
                  "has no consumer workload"], id="no-consumer"),
    pytest.param(DRAIN.replace("    topic: orders\nphases:", "    topic: orders\n    start: latest\nphases:"),
                 ["PLAN:13:12: workloads.1.start: drain 'd': consumer 'c' would start at the log end once released, "
                  "after the backlog: use start: earliest"], id="latest"),
    pytest.param(DRAIN.replace("    backlog: 10MiB\n", ""),
                 ["PLAN:17:5: phases.1.backlog: give one of 'backlog' (bytes) or 'backlog_messages'"], id="no-size"),
    pytest.param(DRAIN.replace("    backlog: 10MiB\n", "    backlog: 10MiB\n    backlog_messages: 5\n"),
                 ["PLAN:19:14: phases.1.backlog: give one of 'backlog' (bytes) or 'backlog_messages'"], id="both-sizes"),
    pytest.param(DRAIN.replace("    rate: 1k/s\n", "    rate: 1k/s\n    engine: jmeter\n", 1),
                 ["PLAN:10:13: workloads.0.engine: a drain tells the runners when to start and when the drain ends "
                  "as it goes, which only the native engine can follow: workload 'p' uses jmeter"], id="jmeter"),
    pytest.param(DRAIN.replace("    threshold: 50\n", "    threshold: 50\n    sustained: 10s\n"),
                 ["PLAN:25:16: slos.0.sustained: consume.lag_growth is one slope over the whole window, not a value "
                  "per second: remove 'sustained'"], id="slope-sustained"),
    pytest.param(DRAIN.replace("    topic: orders\nphases:", "    topic: orders\n    processing: {delay: 1ms, "
                                                             "mean: 2ms}\nphases:"),
                 ["PLAN:13:36: workloads.1.processing.mean: 'mean' does not apply to distribution fixed"],
                 id="processing-field"),
    pytest.param(DRAIN.replace("    topic: orders\nphases:", "    topic: orders\n    processing: "
                                                             "{distribution: uniform, min: 2ms}\nphases:"),
                 ["PLAN:13:5: workloads.1.processing.max: uniform needs 'max'"], id="processing-missing"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rejected(reject, text: str, expected: list[str]) -> None:
    assert reject(text) == expected
