from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from orchestrator.report.hlog import write_hlogs
from orchestrator.runner.histogram import MAX_VALUE_US
from tests.fakes import rich_measured


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    measured = rich_measured(120)
    return measured, write_hlogs(measured, tmp_path_factory.mktemp("hlog"))


def _intervals(path: Path) -> list[HdrHistogram]:
    reader = HistogramLogReader(str(path), HdrHistogram(1, MAX_VALUE_US, 2))
    found = []
    while (h := reader.get_next_interval_histogram()) is not None:
        found.append(h)
    return found


def test_one_log_per_workload_and_kind_with_samples(written):
    _, paths = written
    assert sorted(p.name for p in paths) == ["consumer.e2e_latency.hlog", "producer.publish_latency.hlog"]
    head = paths[0].read_text().splitlines()[:5]
    assert head[1] == "#[Histogram log format version 1.2]" and head[2].startswith("#[StartTime: 1700000000.000")


def test_intervals_add_up_to_the_runs_histogram(written):
    measured, paths = written
    producer = next(p for p in paths if p.name.startswith("producer"))
    intervals = _intervals(producer)
    total = HdrHistogram(1, MAX_VALUE_US, 2)
    for h in intervals:
        total.add(h)
    ours = measured.histogram("publish_latency", "producer", measured.timeline.start,
                              measured.timeline.start + measured.timeline.length)
    assert len(intervals) == 12 and total.get_total_count() == ours.count
    for q in (50, 99, 99.9):
        assert total.get_value_at_percentile(q) == pytest.approx(ours.percentile(q), rel=0.01)


def test_nothing_is_written_without_samples(tmp_path):
    measured = rich_measured(60)
    measured.per_second_hist.clear()
    assert write_hlogs(measured, tmp_path / "none") == [] and not (tmp_path / "none").exists()


@pytest.mark.integration
def test_hdrhistograms_own_log_processor_reads_them(written, tmp_path):
    """HdrHistogram's Java HistogramLogProcessor (the jar Kafka ships) reads the log and agrees."""
    from orchestrator.artifacts.kafka import java_binary, kafka_libs
    from orchestrator.plan.models import LocalTarget

    jar = next(kafka_libs(LocalTarget().kafka_version).glob("HdrHistogram-*.jar"))
    measured, paths = written
    producer = next(p for p in paths if p.name.startswith("producer"))
    out = subprocess.run([java_binary(), "-cp", str(jar), "org.HdrHistogram.HistogramLogProcessor", "-i", str(producer),
                          "-outputValueUnitRatio", "1"], capture_output=True, text=True, timeout=60, check=True).stdout
    total = next(line for line in out.splitlines() if "Total count" in line)
    assert int(total.split("=")[-1].strip(" ]")) == sum(h.get_total_count() for h in _intervals(producer))
