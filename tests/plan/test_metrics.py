from __future__ import annotations

import pytest

from orchestrator.errors import InputError
from orchestrator.plan.metrics import parse_threshold, spec


@pytest.mark.parametrize("metric,text,expected", [
    ("publish_latency.p99", "20ms", 20.0),
    ("publish_latency.p99", "1.5s", 1500.0),
    ("publish_latency.p99", "250us", 0.25),
    ("produce.rate", "5k/s", 5000.0),
    ("produce.rate", "300/min", 5.0),
    ("produce.throughput_mb", "10MB/s", 10.0),
    ("disk.util", "80%", 80.0),
    ("broker.log_dir_bytes", "1GiB", 1024.0**3),
    ("consume.position_lag", "10k", 10_000.0),
    ("consume.committed_lag", 7, 7.0),
])
def test_threshold_converts_to_base_unit(metric, text, expected):
    assert parse_threshold(text, spec(metric).unit, "slo x") == pytest.approx(expected)


def test_threshold_with_a_unit_of_the_wrong_kind_names_the_slo():
    with pytest.raises(InputError, match="slo 'x'.*'80%'"):
        parse_threshold("80%", spec("publish_latency.p99").unit, "slo 'x'")


@pytest.mark.parametrize("metric,unit,reduce", [
    ("e2e_latency.p999", "ms", "latency"), ("jmeter.elapsed.p95", "ms", "latency"),
    ("consume.rate", "msg/s", "rate"), ("consume.lost", "count", "summary"),
    ("jmeter.error_rate", "%", "ratio"), ("disk.w_per_s", "count", "peak"),
])
def test_metric_specs(metric, unit, reduce):
    s = spec(metric)
    assert (s.unit, s.reduce) == (unit, reduce)
