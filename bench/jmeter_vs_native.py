"""Benchmark: the generated JMeter JSR223 producer against the native runner, same settings.

    .venv/bin/python bench/jmeter_vs_native.py [--rate max|N/s] [--duration 15] [--instances 4] [--json FILE]

One local KRaft broker (orchestrator.execute.local_kafka) serves the whole run. For each message
size (100 B, 1 KiB) and engine, one ``apply`` runs one producer alone (so neither engine starves the
other of the machine's cores), at the same offered rate (``--rate``; ``max`` is unthrottled), on a
fresh 1-partition topic, with the same
plan settings (instances, acks all, linger 5 ms, batch 64 KiB, no keys): a native producer
(``python -m orchestrator.runner`` processes) or an ``engine: jmeter`` producer (JMeter threads
through bzt).

msgs/s = messages acknowledged / the workload's measured duration, as the collector computes them
from the run's raw results (so a failure in the report stage does not lose the numbers). p99 is the
publish latency of both (send to acknowledgement, asynchronous, many in flight; for JMeter the elapsed
time of each message's sub-sample). Prints a Markdown table for docs/benchmarks.md; ``--json`` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

from orchestrator.collect import collect
from orchestrator.errors import OrchestrateError
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.pipeline import apply
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir

SIZES = (("100 B", 100), ("1 KiB", 1024))


def _plan(bootstrap: str, engine: str, size: int, rate: str, duration: int, instances: int) -> Plan:
    topic = f"bench-{engine}-{size}"
    return Plan.model_validate({
        "metadata": {"name": f"jmeter-vs-native-{engine}-{size}"},
        "target": {"kind": "existing", "bootstrap_servers": [bootstrap]},
        "topics": [{"name": topic, "if_exists": "recreate"}],
        "workloads": [{"name": engine, "engine": engine, "kind": "producer", "topic": topic, "rate": rate,
                       "instances": instances, "message": {"size": size}, "acks": "all"}],
        "phases": [{"name": "flat-out", "kind": "steady", "duration": f"{duration}s"}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"enabled": False}},
    })


def _cell(run: Path, engine: str) -> dict[str, float]:
    w = next(w for w in collect(RunDir(run)).workloads if w.name == engine)
    latency = w.latency_ms.get("elapsed" if engine == "jmeter" else "publish_latency")
    return {"messages": w.messages, "msgs_per_s": w.messages / w.duration_s if w.duration_s else 0.0,
            "p99_ms": latency.p99 if latency and latency.p99 is not None else float("nan"), "errors": w.errors}


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--duration", type=int, default=15)
    args.add_argument("--instances", type=int, default=4)
    args.add_argument("--rate", default="max", help="offered rate over all instances, e.g. 1000/s, or max")
    args.add_argument("--json", type=Path)
    opts = args.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-jmeter-") as tmp:
        broker = LocalKafka("4.1.1", Path(tmp) / "broker", heap=512 * 1024**2, properties={})
        cluster = broker.start()
        try:
            for label, size in SIZES:
                for engine in ("native", "jmeter"):
                    run = Path(tmp) / f"run-{engine}-{size}"
                    try:
                        apply(_plan(cluster.bootstrap_servers, engine, size, opts.rate, opts.duration, opts.instances),
                              Path(tmp) / "plan.yaml", run, False, Progress())
                    except OrchestrateError as err:  # e.g. the report stage; the raw results are what we measure
                        print(f"{engine} {label}: {err}", file=sys.stderr)
                    results.setdefault(label, {})[engine] = _cell(run, engine)
        finally:
            broker.stop()
    print(f"{platform.node()}: {opts.instances} instances per engine, {opts.duration} s at rate {opts.rate}, acks all\n")
    print("| size | engine | msgs/s | p99 (ms) | messages | errors |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for label, cells in results.items():
        for engine, c in cells.items():
            print(f"| {label} | {engine} | {c['msgs_per_s']:,.0f} | {c['p99_ms']:.1f} | {c['messages']:,} | {c['errors']} |")
    if opts.json:
        opts.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
