"""Benchmark: the native runner's end-to-end latency against Kafka's own EndToEndLatency tool.

    .venv/bin/python bench/e2e_latency.py [--messages 10000] [--size 1024] [--json FILE]

One local KRaft broker (orchestrator.execute.local_kafka). First Kafka's
``org.apache.kafka.tools.EndToEndLatency`` (the Java client, one message in flight: send, then
poll until it comes back) sends ``--messages`` messages of ``--size`` bytes with acks=1 to a
1-partition topic; its achieved rate is messages / its wall time. Then one ``apply`` runs a native
producer and consumer on another 1-partition topic at that same rate, size and acks, for as long
as the tool ran (at least 20 s), without warm-up. Both tools' e2e is send-to-receive on the same
clock. EndToEndLatency reports whole milliseconds, so its p50 of 1 ms means 1.0–1.99 ms.

Prints a Markdown table for docs/benchmarks.md; ``--json`` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestrator.collect import collect
from orchestrator.errors import OrchestrateError
from orchestrator.artifacts.kafka import java_binary, java_classpath
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.pipeline import apply
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir

KAFKA = "4.1.1"


def _end_to_end_latency(bootstrap: str, messages: int, size: int) -> dict[str, float]:
    started = time.monotonic()
    out = subprocess.run([java_binary(), "-cp", java_classpath(KAFKA), "org.apache.kafka.tools.EndToEndLatency",
                          bootstrap, "bench-e2e-java", str(messages), "1", str(size)],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    wall = time.monotonic() - started
    found = re.search(r"Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)", out)
    average = re.search(r"Avg latency: ([\d.]+) ms", out)
    if not found or not average:
        raise SystemExit(f"EndToEndLatency printed no percentiles:\n{out[-2000:]}")
    return {"rate": messages / wall, "p50_ms": float(found[1]), "p99_ms": float(found[2]),
            "p999_ms": float(found[3]), "mean_ms": float(average[1]), "messages": messages}


def _native(bootstrap: str, tmp: Path, rate: float, size: int, seconds: int) -> dict[str, float]:
    topic = "bench-e2e-native"
    plan = Plan.model_validate({
        "metadata": {"name": "e2e-latency-native"},
        "target": {"kind": "existing", "bootstrap_servers": [bootstrap]},
        "topics": [{"name": topic, "partitions": 1, "if_exists": "recreate"}],
        "workloads": [
            {"name": "producer", "kind": "producer", "topic": topic, "rate": f"{rate:.0f}/s",
             "message": {"size": size}, "acks": "1", "linger": "0ms"},
            {"name": "consumer", "kind": "consumer", "topic": topic, "start": "earliest"}],
        "phases": [{"name": "measure", "kind": "steady", "duration": f"{seconds}s"}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"enabled": False}},
    })
    run = tmp / "run-native"
    try:
        apply(plan, tmp / "plan.yaml", run, False, Progress())
    except OrchestrateError as err:  # an SLO-free plan fails only in the report stage; raw results remain
        print(f"native: {err}", file=sys.stderr)
    consumer = next(w for w in collect(RunDir(run)).workloads if w.name == "consumer")
    e2e = consumer.latency_ms["e2e_latency"]
    return {"rate": consumer.messages / consumer.duration_s, "p50_ms": e2e.p50, "p99_ms": e2e.p99,
            "p999_ms": e2e.p999, "mean_ms": e2e.mean, "messages": consumer.messages}


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--messages", type=int, default=10_000)
    args.add_argument("--size", type=int, default=1024)
    args.add_argument("--json", type=Path)
    opts = args.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        broker = LocalKafka(KAFKA, Path(tmp) / "broker", heap=512 * 1024**2, properties={})
        cluster = broker.start()
        try:
            java = _end_to_end_latency(cluster.bootstrap_servers, opts.messages, opts.size)
            seconds = max(20, round(opts.messages / java["rate"]))
            native = _native(cluster.bootstrap_servers, Path(tmp), java["rate"], opts.size, seconds)
        finally:
            broker.stop()
    print(f"{platform.node()}: {os.cpu_count()} cores, load average {load:.2f} before the run; "
          f"{opts.size} B messages, acks 1, 1 partition, one local broker\n")
    print("| tool | rate (msg/s) | p50 (ms) | p99 (ms) | p99.9 (ms) | mean (ms) | messages |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, c in (("Kafka EndToEndLatency (whole ms)", java), ("orchestrate native", native)):
        print(f"| {name} | {c['rate']:,.0f} | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['p999_ms']:.2f} | "
              f"{c['mean_ms']:.2f} | {c['messages']:,} |")
    print(f"\np50 native − EndToEndLatency: {native['p50_ms'] - java['p50_ms']:+.2f} ms")
    if opts.json:
        opts.json.write_text(json.dumps({"end_to_end_latency": java, "native": native}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
