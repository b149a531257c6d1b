"""Benchmark: the native consumer against Kafka's own ConsumerPerformance (kafka-consumer-perf-test).

    .venv/bin/python bench/consumer_perf.py [--records-100 N] [--records-1k N] [--consumers 1 4]
                                            [--repeat R] [--native-props K=V ...] [--json FILE]

In one run, against one local KRaft broker this script starts itself, each record size gets one
4-partition topic filled once with N records by ProducerPerformance (acks=1, 64 KiB batches, linger
5 ms); then both tools drain that same backlog, each in a fresh consumer group, with 1 and with 4
consumers (the Java tool first in odd repeats and second in even ones):

- Java: C processes of ``org.apache.kafka.tools.ConsumerPerformance --messages N --timeout 10000`` in
  one group, started together. A process stops after N messages or 10 s without one; its rate is
  ``nMsg / (fetch.time.ms − 10,000)`` when it stopped on the timeout (fetch time excludes the group
  join; the last 10 s were the wait for a message that never came), ``fetch.nMsg.sec`` otherwise.
- native: C ``python -m orchestrator.runner`` consumer processes in one group (``start: earliest``),
  each stopping when idle for 2 s; its rate is ``received / (last_message_at − assigned_at)`` from its end
  record (group join excluded likewise).

A cell's msgs/s is the sum of its consumers' rates (each over its own reading span). Both tools read
with the same fetch settings: ``max.partition.fetch.bytes`` 1 MiB and a 2 MiB socket receive buffer
(ConsumerPerformance's ``--fetch-size`` and ``--socket-buffer-size`` defaults, given to librdkafka as
``max.partition.fetch.bytes`` and ``socket.receive.buffer.bytes``), fetch.min.bytes 1 and a 500 ms
fetch wait (both clients' defaults). Client CPU: user + system time of the consumer processes per
record. MB/s is MiB/s (records × size / 2^20 / s), as ConsumerPerformance prints it.
``--native-props`` sets librdkafka properties of the native consumers only, over the run's defaults
(``fetch.queue.backoff.ms=1000`` measures librdkafka's own default against orchestrate's 10 ms).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from orchestrator.artifacts.kafka import java_binary, java_classpath
from producer_perf import (KAFKA_VERSION, TOOL_TIMEOUT_S, bench_broker, create_topic, machine, pair_table, run_child,
                           run_pair)

PARTITIONS = 4
# a consumer stops after this long without a message; Java's clock runs from its start, so it must
# cover the group join (a few seconds when four members arrive together)
JAVA_IDLE_MS, NATIVE_IDLE_S = 10_000, 2.0
FETCH = {"max.partition.fetch.bytes": "1048576", "socket.receive.buffer.bytes": "2097152"}


@dataclass
class Result:
    tool: str
    size: int
    consumers: int
    records: int
    msgs_per_s: float
    mib_per_s: float
    cpu_us_per_msg: float


def fill(bootstrap: str, size: int, records: int) -> str:
    topic = create_topic(bootstrap, PARTITIONS)
    run_child([java_binary(), "-Xmx1g", "-cp", java_classpath(KAFKA_VERSION), "org.apache.kafka.tools.ProducerPerformance",
               "--topic", topic, "--num-records", str(records), "--record-size", str(size), "--throughput", "-1",
               "--producer-props", "acks=1", "batch.size=65536", "linger.ms=5", f"bootstrap.servers={bootstrap}"],
              TOOL_TIMEOUT_S)
    return topic


def backlog(bootstrap: str, topic: str) -> int:
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4().hex[:6]}"})
    try:
        return sum(probe.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(PARTITIONS))
    finally:
        probe.close()


def _together(cmds: list[list[str]], timeout: float) -> tuple[list[str], float]:
    """Start every command at once; their stdouts and the CPU seconds they used together."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in cmds]
    outs = [p.communicate(timeout=timeout)[0] for p in procs]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for cmd, proc, out in zip(cmds, procs, outs):
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} … exited with {proc.returncode}:\n{out[-2000:]}")
    return outs, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_java(bootstrap: str, topic: str, size: int, consumers: int, records: int, work: Path) -> Result:
    config = work / "java-consumer.properties"
    config.write_text("fetch.min.bytes=1\nfetch.max.wait.ms=500\n")
    group = f"java-{uuid.uuid4().hex[:8]}"
    cmd = [java_binary(), "-Xmx1g", "-cp", java_classpath(KAFKA_VERSION), "org.apache.kafka.tools.ConsumerPerformance",
           "--bootstrap-server", bootstrap, "--topic", topic, "--group", group, "--messages", str(records),
           "--timeout", str(JAVA_IDLE_MS), "--consumer.config", str(config)]
    outs, cpu = _together([cmd] * consumers, TOOL_TIMEOUT_S)
    total = rate = 0.0
    for out in outs:
        # start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
        line = next((ln for ln in reversed(out.splitlines()) if ln.count(", ") == 9 and ln[:1].isdigit()), None)
        if line is None:
            raise SystemExit(f"ConsumerPerformance printed no result line:\n{out[-2000:]}")
        fields = line.split(", ")
        n, fetch_ms = float(fields[4]), float(fields[7])
        timed_out = "timeout" in out and n < records
        span_s = max(fetch_ms - (JAVA_IDLE_MS if timed_out else 0), 1.0) / 1000
        total, rate = total + n, rate + n / span_s
    if not total:
        raise SystemExit(f"ConsumerPerformance read nothing:\n{outs[0][-2000:]}")
    return Result("kafka-consumer-perf-test", size, consumers, int(total), rate, rate * size / 2**20, cpu / total * 1e6)


def run_native(bootstrap: str, topic: str, size: int, consumers: int, work: Path,
               extra: dict[str, str] | None = None) -> Result:
    group = f"native-{uuid.uuid4().hex[:8]}"
    outputs, cmds = [], []
    for instance in range(consumers):
        output = work / f"{group}-{instance}.jsonl"
        spec = {"workload": "bench", "instance": instance, "role": "consumer", "host": "localhost",
                "bootstrap_servers": bootstrap, "topic": topic, "output": str(output), "start_at": time.time(),
                "schedule": [{"name": "drain", "kind": "steady", "duration_s": 0.1, "rate_from": None, "rate_to": None}],
                "client_config": {**FETCH, "fetch.min.bytes": "1", "fetch.wait.max.ms": "500", **(extra or {})},
                "group": group, "start": "earliest", "drain_s": NATIVE_IDLE_S, "drain_max_s": TOOL_TIMEOUT_S}
        spec_file = work / f"{group}-{instance}.json"
        spec_file.write_text(json.dumps(spec))
        outputs.append(output)
        cmds.append([sys.executable, "-m", "orchestrator.runner", str(spec_file)])
    _, cpu = _together(cmds, TOOL_TIMEOUT_S + 60)
    total = rate = 0.0
    for output in outputs:
        end = json.loads(output.read_text().splitlines()[-1])
        if end["type"] != "end" or end.get("error"):
            raise SystemExit(f"native consumer {output}: {end.get('error') or 'no end record'}")
        if end["received"]:
            total += end["received"]
            rate += end["received"] / max(end["last_message_at"] - end["assigned_at"], 1e-3)
    return Result("native", size, consumers, int(total), rate, rate * size / 2**20, cpu / max(total, 1) * 1e6)


def table(results: list[Result]) -> str:
    return pair_table(results, ["record", "consumers", "tool", "records", "msgs/s", "MiB/s", "client CPU µs/msg"],
                      lambda r: [f"{r.size} B", str(r.consumers), r.tool, f"{r.records:,}", f"{r.msgs_per_s:,.0f}",
                                 f"{r.mib_per_s:.1f}", f"{r.cpu_us_per_msg:.1f}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records-100", type=int, default=4_000_000, help="backlog of the 100 B cells")
    parser.add_argument("--records-1k", type=int, default=1_000_000, help="backlog of the 1 KiB cells")
    parser.add_argument("--consumers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeat", type=int, default=1, help="run every cell this many times")
    parser.add_argument("--native-props", nargs="*", default=[], metavar="K=V",
                        help="librdkafka properties for the native consumers on top of the shared fetch settings")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    extra = dict(p.split("=", 1) for p in args.native_props)
    about = machine()
    results: list[Result] = []
    with bench_broker("consumer-perf-") as (work, bootstrap):
        for size, records in ((100, args.records_100), (1024, args.records_1k)):
            topic = fill(bootstrap, size, records)
            held = backlog(bootstrap, topic)
            for repeat in range(args.repeat):
                for consumers in args.consumers:
                    run_pair([lambda: run_java(bootstrap, topic, size, consumers, held, work),
                              lambda: run_native(bootstrap, topic, size, consumers, work, extra)], repeat, results)
    print(f"Machine: {about}\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": about, "results": [asdict(r) for r in results]}, indent=2))


if __name__ == "__main__":
    main()
