from __future__ import annotations

import pytest

from orchestrator.analyze.window import judged_window
from orchestrator.report.omb import omb_result
from tests.fakes import rich_measured

LATENCY_FIELDS = [f"{prefix}{suffix}" for prefix in ("publishLatency", "publishDelayLatency", "endToEndLatency")
                  for suffix in ("Avg", "50pct", "75pct", "95pct", "99pct", "999pct", "9999pct", "99999pct", "Max")]


@pytest.fixture(scope="module")
def result():
    import yaml

    from orchestrator.plan.models import Plan
    from tests.fakes import PLAN_YAML

    m = rich_measured(180)
    return omb_result(Plan.model_validate(yaml.safe_load(PLAN_YAML)), m, judged_window(m.phases, m.timeline)), m


def test_test_result_fields_are_present(result):
    r, _ = result
    for name in ["workload", "driver", "messageSize", "topics", "partitions", "producersPerTopic", "consumersPerTopic",
                 "publishRate", "publishErrorRate", "consumeRate", "backlog", *LATENCY_FIELDS,
                 *("aggregated" + f[0].upper() + f[1:] for f in LATENCY_FIELDS),
                 "aggregatedPublishLatencyQuantiles", "aggregatedPublishDelayLatencyQuantiles",
                 "aggregatedEndToEndLatencyQuantiles"]:
        assert name in r, name
    assert (r["workload"], r["messageSize"], r["topics"], r["partitions"]) == ("demo", 1024, 1, 6)


def test_series_are_ten_second_samples_of_the_measured_window(result):
    r, m = result
    assert len(r["publishRate"]) == 12  # 180 s minus a 60 s warm-up
    assert all(len(r[k]) == 12 for k in LATENCY_FIELDS)
    expected = sum(m.timeline.series[next(k for k in m.timeline.series if k.metric == "produce.rate")][60:70]) / 10
    assert r["publishRate"][0] == pytest.approx(expected)


def test_units_follow_omb(result):
    r, m = result
    merged = m.histogram("publish_latency", None, m.timeline.start + 60, m.timeline.start + 180)
    assert r["aggregatedPublishLatency99pct"] == pytest.approx(merged.percentile(99) / 1000)  # ms
    assert r["aggregatedPublishLatencyMax"] == merged.max / 1000
    assert isinstance(r["aggregatedPublishDelayLatency50pct"], int)  # µs, whole numbers
    assert r["aggregatedPublishLatencyQuantiles"]["99.0"] == r["aggregatedPublishLatency99pct"]


def test_quantile_levels_follow_hdrhistogram_percentile_iteration_and_stop_where_the_data_stops():
    from orchestrator.report.omb import quantile_levels

    levels = quantile_levels(1000)
    assert levels[:3] == [0.0, 0.5, 1.0] and levels[-1] == 100.0
    assert levels[100:103] == [50.0, 50.25, 50.5]  # the second half distance, 100 ticks again
    assert all(b > a for a, b in zip(levels, levels[1:]))
    assert levels[-2] < 99.9 <= 100.0 * 999 / 1000 + 1e-9  # nothing past what 1,000 samples resolve
    assert len(quantile_levels(10_000_000)) > len(levels) and quantile_levels(0) == [] and quantile_levels(1) == [100.0]
