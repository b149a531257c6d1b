"""Benchmark: what orchestrate itself costs on the load host, for plans/quickstart.yaml, beside the
same load driven by Kafka's own perf tools.

    PYTHONPATH=. .venv/bin/python bench/apply_overhead.py [--plan plans/quickstart.yaml] [--repeat R] [--json FILE]

In one run, one after the other (the Java tools first in odd repeats and second in even ones):

- orchestrate: ``orchestrate apply PLAN`` as a user runs it (its own local broker). From the run's
  summary.json, ``environment.orchestrator``: the time from the cluster answering to the first phase
  (topics, runners started, the start lead), apply's own CPU while the load ran, its peak memory,
  and the native runners' own CPU (their end records). Client CPU is apply's plus the runners'.
- Kafka's tools: the plan's load (its first producer's rate, size and acks for the whole schedule's
  message count; the topic's partitions) on a broker this script starts, from
  ``org.apache.kafka.tools.ProducerPerformance --throughput RATE`` while one
  ``ConsumerPerformance`` reads the same messages. Client CPU is both JVMs' user + system time.

The ratio is orchestrate's client CPU over the Java tools', per message sent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from producer_perf import TOOL_TIMEOUT_S, bench_broker, create_topic, machine, run_pair  # noqa: E402

from orchestrator.artifacts.kafka import java_binary, java_classpath  # noqa: E402
from orchestrator.plan.loader import load_plan  # noqa: E402
from orchestrator.plan.models import ProducerWorkload  # noqa: E402

KAFKA_VERSION = "4.1.1"


@dataclass
class Result:
    tool: str
    messages: int
    client_cpu_s: float
    apply_cpu_s: float | None = None  # orchestrate only: apply's own share of client_cpu_s
    ready_to_load_s: float | None = None
    apply_rss_mb: float | None = None

    @property
    def cpu_us_per_msg(self) -> float:
        return self.client_cpu_s / max(self.messages, 1) * 1e6


def run_orchestrate(plan: Path, work: Path, repeat: int) -> Result:
    run_dir = work / f"run-{repeat}"
    done = subprocess.run([sys.executable, "-c", "import sys; from orchestrator.cli import main; sys.exit(main())",
                           "apply", str(plan), "--run-dir", str(run_dir), "--progress-every", "0"],
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, env={**os.environ})
    if done.returncode not in (0, 1):  # 1: an SLO failed on a busy machine; the cost is still measured
        raise SystemExit(f"apply exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    summary = json.loads((run_dir / "summary.json").read_text())
    own = summary["environment"]["orchestrator"]
    sent = sum(w["messages"] for w in summary["workloads"] if w["kind"] == "producer")
    return Result("orchestrate", sent, own["cpu_s"] + (own["runners_cpu_s"] or 0.0), own["cpu_s"],
                  own["ready_to_load_s"], own["max_rss_mb"])


def run_kafka_tools(bootstrap: str, partitions: int, rate: float, size: int, acks: str, messages: int) -> Result:
    topic = create_topic(bootstrap, partitions)
    java = [java_binary(), "-Xmx512m", "-cp", java_classpath(KAFKA_VERSION)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    consumer = subprocess.Popen([*java, "org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap,
                                 "--topic", topic, "--messages", str(messages), "--timeout", "30000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)  # in its group before the first message, as orchestrate's consumers are
    producer = subprocess.run([*java, "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                               "--num-records", str(messages), "--record-size", str(size), "--throughput", str(rate),
                               "--producer-props", f"acks={acks}", f"bootstrap.servers={bootstrap}"],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    consumer.wait(timeout=TOOL_TIMEOUT_S)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if producer.returncode != 0 or consumer.returncode != 0:
        raise SystemExit(f"Kafka's perf tools failed ({producer.returncode}, {consumer.returncode}): {producer.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Result("kafka perf tools", messages, cpu)


def table(results: list[Result]) -> str:
    rows = ["| tool | messages | client CPU s | µs CPU/msg | apply's own CPU s | ready ▶ first phase s | apply peak MB | orchestrate ÷ Java CPU/msg |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for i in range(0, len(results), 2):
        pair = results[i:i + 2]
        java = next(r for r in pair if r.tool != "orchestrate")
        ours = next(r for r in pair if r.tool == "orchestrate")
        for r in (java, ours):
            extra = ([f"{r.apply_cpu_s:.2f}", f"{r.ready_to_load_s:.2f}", f"{r.apply_rss_mb:.0f}",
                      f"**{ours.cpu_us_per_msg / java.cpu_us_per_msg:.2f}**"] if r is ours else ["", "", "", ""])
            rows.append("| " + " | ".join([r.tool, f"{r.messages:,}", f"{r.client_cpu_s:.2f}",
                                            f"{r.cpu_us_per_msg:.0f}", *extra]) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=Path("plans/quickstart.yaml"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    plan = load_plan(args.plan)
    producer = next(w for w in plan.workloads if isinstance(w, ProducerWorkload))
    rate, size = producer.rate, producer.message.size
    if not isinstance(rate, float) or not isinstance(size, int):
        raise SystemExit(f"{args.plan}: the first producer needs a fixed rate and a fixed message size")
    messages = int(rate * plan.total_duration)
    partitions = next(t.partitions for t in plan.topics if t.name == producer.topic)
    about = machine()
    results: list[Result] = []
    with bench_broker("apply-overhead-") as (_, bootstrap), tempfile.TemporaryDirectory(prefix="apply-runs-") as runs:
        for repeat in range(args.repeat):
            run_pair([lambda: run_kafka_tools(bootstrap, partitions, rate, size, producer.acks, messages),
                      lambda: run_orchestrate(args.plan, Path(runs), repeat)], repeat, results)
    print(f"Machine: {about}\n\nPlan: {args.plan} ({messages:,} messages of {size} B at {rate:,.0f}/s, "
          f"acks {producer.acks}, {partitions} partitions)\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": about, "results": [asdict(r) for r in results]}, indent=2))


if __name__ == "__main__":
    main()
