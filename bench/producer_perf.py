"""Benchmark: the native producer against Kafka's own ProducerPerformance (kafka-producer-perf-test).

    .venv/bin/python bench/producer_perf.py [--records-100 N] [--records-1k N] [--repeat R]
                                            [--java-props K=V ...] [--json FILE]

In one run, against one local KRaft broker this script starts itself (orchestrator.execute.local_kafka),
each cell (100 B and 1 KiB records × acks=1 and acks=all) runs both tools unthrottled on the same
number of records, each on a fresh 1-partition topic, the Java tool first in odd repeats and second
in even ones so both see the same drift of a busy machine:

- Java: ``org.apache.kafka.tools.ProducerPerformance --num-records N --record-size S --throughput -1
  --producer-props acks=A bootstrap.servers=... [--java-props]`` (its defaults otherwise); its final line gives
  records/s, MB/s and latency percentiles (ms, whole numbers).
- native: ``python -m orchestrator.runner SPEC`` with one unthrottled phase and ``max_messages = N``,
  the producer settings a plan gets by default (linger 5 ms, batch 64 KiB) and the same acks;
  msgs/s = N / (end record − start of the schedule), which includes the final flush as Java's does;
  latency = publish latency from the merged interval histograms.

Client CPU is the user + system time of the tool's process (the JVM, or the runner with its
librdkafka threads) per record: on a shared machine it is steadier than wall-clock rates.
MB/s is MiB/s for both (records × size / 2^20 / s), as ProducerPerformance prints it. Prints a
Markdown table for docs/benchmarks.md; ``--json`` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from confluent_kafka.admin import AdminClient, NewTopic

from orchestrator.artifacts.kafka import java_binary, java_classpath
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.plan.models import ProducerWorkload
from orchestrator.render.runner import producer_config
from orchestrator.runner.histogram import Histogram

KAFKA_VERSION = "4.1.1"
TOOL_TIMEOUT_S = 600
_JAVA_TOTAL = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, "
    r"(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th")


@dataclass
class Result:
    tool: str
    size: int
    acks: str
    records: int
    msgs_per_s: float
    mib_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_msg: float  # user + system CPU of the client process, per record


def run_child(cmd: list[str], timeout: float) -> tuple[str, float]:
    """Run ``cmd``; its stdout and the CPU seconds it used (children are run one at a time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} … exited with {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def create_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"perf-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the request
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=60)
    return name


def run_java(bootstrap: str, size: int, acks: str, records: int, extra: list[str]) -> Result:
    cmd = [java_binary(), "-Xmx1g", "-cp", java_classpath(KAFKA_VERSION), "org.apache.kafka.tools.ProducerPerformance",
           "--topic", create_topic(bootstrap), "--num-records", str(records), "--record-size", str(size),
           "--throughput", "-1", "--producer-props", f"acks={acks}", f"bootstrap.servers={bootstrap}", *extra]
    stdout, cpu = run_child(cmd, TOOL_TIMEOUT_S)
    total = _JAVA_TOTAL.search(stdout.strip().splitlines()[-1])
    if total is None:
        raise SystemExit(f"ProducerPerformance printed no total line:\n{stdout[-2000:]}")
    return Result("kafka-producer-perf-test", size, acks, int(total[1]), float(total[2]), float(total[3]),
                  float(total[6]), float(total[8]), cpu / records * 1e6)


def run_native(bootstrap: str, size: int, acks: str, records: int, work: Path) -> Result:
    topic = create_topic(bootstrap)
    settings = producer_config(ProducerWorkload(name="bench", kind="producer", topic=topic, acks=acks))
    output = work / f"{topic}.jsonl"
    start_at = time.time() + 2.0  # the process boots and fetches metadata first
    spec = {"workload": "bench", "instance": 0, "role": "producer", "host": "localhost", "bootstrap_servers": bootstrap,
            "topic": topic, "output": str(output), "start_at": start_at, "max_messages": records,
            "schedule": [{"name": "max", "kind": "steady", "duration_s": TOOL_TIMEOUT_S, "rate_from": None, "rate_to": None}],
            "client_config": settings, "message": {"distribution": "fixed", "size": size}}
    spec_file = work / f"{topic}.json"
    spec_file.write_text(json.dumps(spec))
    _, cpu = run_child([sys.executable, "-m", "orchestrator.runner", str(spec_file)], TOOL_TIMEOUT_S + 60)
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    end = lines[-1]
    if end["acked"] != records:
        raise SystemExit(f"native producer acked {end['acked']} of {records} records: {end.get('error')}")
    latency = Histogram()
    for r in lines:
        if r["type"] == "interval":
            latency.merge(Histogram.from_dict(r["hist"]["publish_latency"]))
    seconds = end["ts"] - start_at
    return Result("native", size, acks, records, records / seconds, records * size / 2**20 / seconds,
                  latency.percentile(50) / 1000, latency.percentile(99) / 1000, cpu / records * 1e6)


@contextmanager
def bench_broker(prefix: str) -> Iterator[tuple[Path, str]]:
    """A scratch directory and the bootstrap address of a local broker started in it, stopped after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        broker = LocalKafka(KAFKA_VERSION, work / "kafka", heap=1024**3, properties={})
        bootstrap = broker.start().bootstrap_servers
        try:
            yield work, bootstrap
        finally:
            broker.stop()


def run_pair(pair: list[Callable[[], Any]], repeat: int, results: list) -> None:
    """Both tools of one cell, the Java tool first in odd repeats and second in even ones."""
    for run in (pair if repeat % 2 == 0 else pair[::-1]):
        results.append(run())
        print(f"  {results[-1]}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem_kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
    java = subprocess.run([java_binary(), "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    import confluent_kafka

    return (f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 2**20:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, confluent-kafka {confluent_kafka.version()[0]} "
            f"(librdkafka {confluent_kafka.libversion()[0]}), {java}, Kafka {KAFKA_VERSION}, "
            f"load average before the run {os.getloadavg()[0]:.1f}")


def pair_table(results: list, headers: list[str], cells: Callable[[Any], list[str]]) -> str:
    """A Markdown table of results that come in pairs, one per tool and cell (``tool`` and
    ``msgs_per_s`` attributes), Java first in each pair; the ratio is taken within each pair."""
    rows = ["| " + " | ".join([*headers, "native ÷ Java msgs/s"]) + " |", "|" + " --- |" * (len(headers) + 1)]
    for i in range(0, len(results), 2):
        pair = results[i:i + 2]
        java = next(r for r in pair if r.tool != "native")
        native = next(r for r in pair if r.tool == "native")
        for r in (java, native):
            ratio = f"**{native.msgs_per_s / java.msgs_per_s:.2f}**" if r is native else ""
            rows.append("| " + " | ".join([*cells(r), ratio]) + " |")
    return "\n".join(rows)


def table(results: list[Result]) -> str:
    return pair_table(results, ["record", "acks", "tool", "records", "msgs/s", "MiB/s", "p50 ms", "p99 ms", "client CPU µs/msg"],
                      lambda r: [f"{r.size} B", r.acks, r.tool, f"{r.records:,}", f"{r.msgs_per_s:,.0f}", f"{r.mib_per_s:.1f}",
                                 f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.cpu_us_per_msg:.1f}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records-100", type=int, default=1_000_000, help="records per 100 B cell")
    parser.add_argument("--records-1k", type=int, default=500_000, help="records per 1 KiB cell")
    parser.add_argument("--repeat", type=int, default=1, help="run every cell this many times")
    parser.add_argument("--java-props", nargs="*", default=[], metavar="K=V",
                        help="extra ProducerPerformance --producer-props, e.g. batch.size=65536")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    about = machine()
    results: list[Result] = []
    with bench_broker("producer-perf-") as (work, bootstrap):
        for repeat in range(args.repeat):
            for size, records in ((100, args.records_100), (1024, args.records_1k)):
                for acks in ("1", "all"):
                    run_pair([lambda: run_java(bootstrap, size, acks, records, args.java_props),
                              lambda: run_native(bootstrap, size, acks, records, work)], repeat, results)
    print(f"Machine: {about}\n")
    if args.java_props:
        print(f"ProducerPerformance extra --producer-props: {' '.join(args.java_props)}\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": about, "results": [asdict(r) for r in results]}, indent=2))


if __name__ == "__main__":
    main()
