"""Benchmark: the collector's JTL ingest against JMeter's own dashboard generator on the same file.

    .venv/bin/python bench/jtl_ingest.py [--rows 10000000] [--dir /tmp/jtl-bench] [--skip-jmeter]

Generates a Taurus-style 13-column kpi.jtl (20 labels, ~2,000 samples/s, 1 % errors, log-normal
elapsed times), then times, each in its own child process, (a) the collector ingest of that file and
(b) ``jmeter -g file -o dir`` with JMeter 5.6.3 from ``orchestrator.artifacts.jmeter`` (heap: its
launcher's default 1 GiB, or ``--jmeter-heap``). Peak RSS is the child's ``ru_maxrss`` from ``wait4``.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,success,bytes,grpThreads,allThreads,Latency,Hostname,Connect\n"
LABELS = [f"kafka-produce-{i:02d}" for i in range(10)] + [f"kafka-consume-{i:02d}" for i in range(10)]
START_MS = 1_795_596_800_000


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    ts, written = START_MS, 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        while written < rows:
            lines = []
            for _ in range(min(100_000, rows - written)):
                ts += rng.randint(0, 1)
                elapsed = int(rng.lognormvariate(2.5, 0.8))
                label = LABELS[rng.randrange(20)]
                if rng.random() < 0.01:
                    lines.append(f'{ts},{elapsed},{label},500,"Error: timeout, retrying",Thread Group 1-{rng.randrange(1, 51)},false,0,50,50,0,agent-1,1\n')
                else:
                    lines.append(f"{ts},{elapsed},{label},200,OK,Thread Group 1-{rng.randrange(1, 51)},true,{rng.randint(100, 2000)},50,50,{elapsed // 2},agent-1,{elapsed // 10}\n")
            out.write("".join(lines))
            written += len(lines)


def ingest(path: Path, work: Path) -> int:
    """What the collector does with a JTL: stream it into the timeline, label totals and histogram store."""
    from orchestrator.collect.diagnostics import Diagnostics
    from orchestrator.collect.histograms import HistogramStore
    from orchestrator.collect.jtl import JtlAggregator, read_jtl
    from orchestrator.collect.timeline import TimelineBuilder

    builder, store = TimelineBuilder(), HistogramStore(work / "histograms.jsonl")
    aggregator = JtlAggregator("bench", builder, store)
    read_jtl(path, aggregator, Diagnostics(path.parent))
    labels = aggregator.finish()
    store.close()
    builder.build()
    return sum(label.count for label in labels)


def measure(command: list[str], log: Path, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB and exit status of one child process.

    CPU seconds are reported too because wall time on a shared machine depends on everything else running.
    The child's output goes to ``log``."""
    started = time.monotonic()
    with log.open("wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one, removed afterwards)")
    parser.add_argument("--skip-jmeter", action="store_true")
    parser.add_argument("--jmeter-heap", default="1g", help="JMeter's -Xmx (its launcher's default is 1g)")
    parser.add_argument("--child-ingest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ingest:
        ingest(args.child_ingest, args.child_ingest.parent)
        return 0
    work = args.dir or Path(tempfile.mkdtemp(prefix="jtl-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    jtl = work / "kpi.jtl"
    started = time.monotonic()
    generate(jtl, args.rows)
    print(f"generated {args.rows:,} rows, {jtl.stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s", flush=True)
    rows = [("collector ingest", *measure([sys.executable, __file__, "--child-ingest", str(jtl)], work / "collector.log"))]
    print(rows[-1], flush=True)
    if not args.skip_jmeter:
        from orchestrator.artifacts.jmeter import ensure_jmeter, launcher

        out = work / "jmeter-dashboard"
        shutil.rmtree(out, ignore_errors=True)
        heap = f"-Xms1g -Xmx{args.jmeter_heap} -XX:MaxMetaspaceSize=256m"
        rows.append((f"jmeter -g (5.6.3, -Xmx{args.jmeter_heap})",
                     # in the work directory: JMeter leaves its jmeter.log and the report generator's temp/ there
                     *measure([str(launcher(ensure_jmeter())), "-g", str(jtl), "-o", str(out)], work / "jmeter.out",
                              {"HEAP": heap}, cwd=work)))
        print(rows[-1], flush=True)
        if rows[-1][-1] != 0:
            tail = (work / "jmeter.out").read_text(errors="replace").strip().splitlines()[-3:]
            print("jmeter failed: " + " | ".join(tail), flush=True)
    print(f"\nmachine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| tool | wall time (s) | CPU time (s) | peak RSS (MB) | rows/s (wall) | exit |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, seconds, cpu, rss, code in rows:
        print(f"| {name} | {seconds:.1f} | {cpu:.1f} | {rss:.0f} | {args.rows / seconds:,.0f} | {code} |")
    if len(rows) == 2:
        print(f"\ncollector vs jmeter -g: {rows[1][1] / rows[0][1]:.1f}x less wall time, {rows[1][2] / rows[0][2]:.1f}x less CPU time")
    if args.dir is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
