"""Broker metrics from the local broker's own JMX (Kafka's JmxTool) and this host's CPU, memory and
network, end to end: in the timeline, summary.json and the report, and judged by SLOs."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from orchestrator.cli import main

pytestmark = pytest.mark.integration


def test_jmx_and_host_metrics_reach_timeline_summary_report_and_slos(tmp_path, topic_name) -> None:
    plan = {
        "metadata": {"name": "it-broker-metrics"},
        "target": {"kind": "local", "heap": "512MiB"},
        "topics": [{"name": topic_name, "partitions": 2}],
        "workloads": [{"name": "prod", "kind": "producer", "topic": topic_name, "rate": "300/s", "message": {"size": "1KiB"}},
                      # only here for the broker's fetch metrics, which count while the phases run
                      {"name": "cons", "kind": "consumer", "topic": topic_name, "drain": "2s"}],
        "phases": [{"name": "warm", "kind": "warmup", "duration": "3s"},
                   {"name": "hold", "kind": "steady", "duration": "12s"}],
        "monitors": {"jmx": {"enabled": True, "interval": "2s"}, "host": {"interval": "1s"}},
        "slos": [
            # a loaded 2-core machine keeps the handlers idle well above 1%; pass or fail, it must be judged
            {"name": "handlers-idle", "metric": "broker.request_handler_idle", "op": ">=", "threshold": "1%"},
            {"name": "bytes-in", "metric": "broker.bytes_in_mb", "op": ">", "threshold": 0},
            {"name": "host-cpu", "metric": "host.cpu", "op": "<=", "threshold": "100%"},
        ],
        "report": {"formats": ["html", "csv"]},
    }
    path, run = tmp_path / "plan.yaml", tmp_path / "run"
    path.write_text(yaml.safe_dump(plan))
    main(["apply", str(path), "--run-dir", str(run)])

    assert (run / "raw" / "jmx" / "0.tsv").stat().st_size > 0
    assert (run / "raw" / "host" / "localhost.jsonl").stat().st_size > 0
    data = json.loads((run / "summary.json").read_text())
    slos = {s["name"]: s for s in data["slos"]}
    assert all(s["verdict"] in ("pass", "fail") and s["observed"] is not None for s in slos.values()), slos
    assert slos["bytes-in"]["verdict"] == "pass"  # the producer's 300 KB/s reached the broker
    assert 0 <= slos["handlers-idle"]["observed"] <= 100

    stats = {(m["metric"], m["source"]): m for m in data["metrics"]}
    for metric in ("broker.bytes_in_mb", "broker.messages_in", "broker.produce_rate", "broker.produce_total_ms",
                   "broker.fetch_consumer_rate", "broker.network_idle", "broker.heap_used", "broker.leader_count"):
        assert (metric, "0") in stats, metric
    assert stats[("broker.leader_count", "0")]["max"] >= 2  # the topic's two partitions, led by the one broker
    assert stats[("broker.messages_in", "0")]["mean"] > 0
    for metric in ("host.cpu", "host.memory", "host.net_rx_mb"):
        assert (metric, "localhost") in stats, metric

    with (run / "results" / "timeline.csv").open() as f:
        columns = next(csv.reader(f))
    assert "broker.request_handler_idle[host=0]" in columns and "host.cpu[host=localhost]" in columns
    html = (run / "report" / "index.html").read_text()
    assert 'id="broker_jmx"' in html and 'id="hosts"' in html
