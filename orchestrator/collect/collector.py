"""collect(run): every raw source of a run ▶ one ``Collected`` (timeline, workload totals, events).

Inputs, all under the run directory, each optional (a missing source is a warning, not an error):

    plan.resolved.yaml              workload kinds, engines, topics, groups (required)
    raw/events.jsonl                run, phase, fault and SLO events
    raw/native/**/*.jsonl           native runner records
    raw/jmeter/<workload>/**/*.jtl  JMeter results of one workload (CSV or XML)
    raw/iostat/<host>.json|.txt     iostat of one host
    raw/kafka_admin/samples.jsonl   admin samples
    raw/orchestrator.json           apply's own CPU and memory while the load ran
    raw/jmx/<broker>.tsv            JmxTool output of one broker
    raw/host/<host>.jsonl           CPU, memory and network of one host

Per-second latency histograms go to ``results/histograms.jsonl`` (see ``HistogramStore``);
``Collected.histogram()`` merges them for any window.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from orchestrator.collect.diagnostics import ClockWatch, Diagnostics
from orchestrator.collect.events import phase_spans, read_events
from orchestrator.collect.histograms import PERCENTILES, HistogramStore
from orchestrator.collect.iostat import read_iostat
from orchestrator.collect.jtl import JmeterLabel, JtlAggregator, elapsed_stats, read_jtl
from orchestrator.collect.kafka_admin import ClusterFacts, read_admin_samples
from orchestrator.collect.native import NativeReader, NativeTotals
from orchestrator.collect.ranges import AFTER_STOP, BEFORE_START, Ranges, add_ranges, audit
from orchestrator.collect.sampled import read_host, read_jmx
from orchestrator.collect.timeline import SeriesKey, Timeline, TimelineBuilder
from orchestrator.errors import InputError
from orchestrator.plan.models import ConsumerWorkload, Plan, ProducerWorkload
from orchestrator.rundir import RunDir
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import (Environment, ErrorCount, Event, LatencyStats, LossExclusion, OrchestratorUsage,
                                  PhaseSpan, Throughput, WorkloadSummary)

_DISK_FIELDS = {"disk.r_per_s": "r_per_s", "disk.w_per_s": "w_per_s", "disk.rkb_per_s": "rkb_per_s",
                "disk.wkb_per_s": "wkb_per_s", "disk.await": "await_ms", "disk.aqu_sz": "aqu_sz", "disk.util": "util"}


@dataclass
class Collected:
    plan: Plan
    timeline: Timeline
    workloads: list[WorkloadSummary]
    phases: list[PhaseSpan]
    events: list[Event]
    environment: Environment
    jmeter_labels: list[JmeterLabel]
    warnings: list[str]
    store: HistogramStore = field(repr=False)
    cluster: ClusterFacts = field(default_factory=ClusterFacts)

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        """Latency histogram (µs) of ``kind`` merged over the seconds overlapping [start, end); workload None: all.

        Kinds: publish_latency, publish_delay, corrected_latency, e2e_latency, elapsed (JMeter)."""
        return self.store.histogram(kind, workload, start, end)


def load_resolved_plan(run: RunDir) -> Plan:
    path = run.resolved_plan
    try:
        return Plan.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise InputError(f"{path}: cannot read the resolved plan: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: not a valid plan: {where}: {first['msg']}") from err


def collect(run: RunDir) -> Collected:
    plan = load_resolved_plan(run)
    diag, builder = Diagnostics(run.root), TimelineBuilder()
    store = HistogramStore(run.results / "histograms.jsonl")
    events = read_events(run.events, diag)
    native = NativeReader(builder, store, diag)
    native.read(sorted(run.raw_native.rglob("*.jsonl")))
    labels = _read_jmeter(run, plan, builder, store, diag)
    _read_iostat(run, plan, builder, diag)
    _read_sampled(run, plan, builder, diag)
    admin = read_admin_samples(run.admin_samples, builder, diag, plan.monitors.kafka_admin.interval)
    store.close()
    events = sorted(events + admin.events, key=lambda e: e.ts)
    summaries = _summaries(plan, run, native.workloads, labels, diag)
    environment = Environment(brokers=_brokers(events, admin.brokers),
                              agents=sorted(native.hosts | _jmeter_hosts(plan, labels)),
                              orchestrator=_own_usage(run.orchestrator_usage, native.workloads.values(), diag))
    return Collected(plan=plan, timeline=_timeline(builder, events), workloads=summaries,
                     phases=phase_spans(events, {p.name: p.kind for p in plan.phases}), events=events,
                     environment=environment, jmeter_labels=labels, warnings=diag.lines(), store=store,
                     cluster=admin.cluster)


def _own_usage(path: Path, runners: Iterable[NativeTotals], diag: Diagnostics) -> OrchestratorUsage | None:
    """apply's cost from raw/orchestrator.json (written when the load ended; absent for a killed run),
    beside what the native runners cost themselves (their end records)."""
    if not path.exists():
        return None
    runner_cpu = [t.cpu_s for t in runners if t.cpu_s is not None]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        wall = max(float(raw["until"]) - float(raw["since"]), 1e-3)
        return OrchestratorUsage(ready_to_load_s=float(raw["load_start"]) - float(raw["cluster_ready"]),
                                 cpu_s=float(raw["cpu_s"]), cpu_share=float(raw["cpu_s"]) / wall,
                                 max_rss_mb=int(raw["max_rss_kb"]) / 1024,
                                 runners_cpu_s=sum(runner_cpu) if runner_cpu else None)
    except (OSError, ValueError, KeyError, TypeError) as err:
        diag.note(path, f"unreadable, apply's own usage left out: {err!r}")
        return None


def _jmeter_hosts(plan: Plan, labels: list[JmeterLabel]) -> set[str]:
    """Where the JMeter workloads that left results ran: their agents, else this machine."""
    ran = {label.workload for label in labels}
    return {host for w in plan.workloads if w.engine == "jmeter" and w.name in ran for host in (w.agents or ["localhost"])}


def _brokers(events: list[Event], ids: set[str]) -> list[str]:
    """The bootstrap addresses when they are as many as the brokers the admin samples saw, else "id N" per broker.

    One entry per broker either way: the report counts brokers by this list."""
    start = next((e.detail for e in events if e.kind == "run_start" and e.detail.startswith("bootstrap ")), "")
    addresses = [a.strip() for a in start.removeprefix("bootstrap ").split(",") if a.strip()]
    if addresses and (not ids or len(addresses) == len(ids)):
        return addresses
    return [f"id {i}" for i in sorted(ids, key=lambda i: (len(i), i))]


def _timeline(builder: TimelineBuilder, events: list[Event]) -> Timeline:
    """The data's span, widened to the run's start and end events so that gaps at either end show."""
    bounds = [int(e.ts) for e in events if e.kind in ("run_start", "run_end")]
    span = builder.span()
    if span is not None:
        bounds += span
    return builder.build(min(bounds), max(bounds)) if bounds else builder.build()


def _read_jmeter(run: RunDir, plan: Plan, builder: TimelineBuilder, store: HistogramStore, diag: Diagnostics) -> list[JmeterLabel]:
    labels: list[JmeterLabel] = []
    root = run.raw_jmeter
    # generated producers: one sub-sample per message (orchestrator.render.jmx)
    per_message = {w.name for w in plan.workloads if isinstance(w, ProducerWorkload) and w.engine == "jmeter"}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        aggregator = JtlAggregator(folder.name, builder, store, ClockWatch(diag, folder, 1.0), folder.name in per_message)
        for path in sorted(folder.rglob("*.jtl")):
            read_jtl(path, aggregator, diag)
        labels.extend(aggregator.finish())
    return labels


def _read_iostat(run: RunDir, plan: Plan, builder: TimelineBuilder, diag: Diagnostics) -> None:
    keep = set(plan.monitors.iostat.devices)
    root = run.raw_iostat
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.suffix not in (".json", ".txt"):
            continue
        clock = ClockWatch(diag, path, plan.monitors.iostat.interval)
        for sample in read_iostat(path, diag):
            clock.see(sample.ts)
            if keep and sample.device not in keep:
                continue
            for metric, attr in _DISK_FIELDS.items():
                value = getattr(sample, attr)
                if value is not None:
                    builder.set(SeriesKey(metric, host=path.stem, device=sample.device), sample.ts, value)


def _read_sampled(run: RunDir, plan: Plan, builder: TimelineBuilder, diag: Diagnostics) -> None:
    for path in sorted(run.raw_jmx.glob("*.tsv")):
        read_jmx(path, builder, diag, plan.monitors.jmx.interval)
    for path in sorted(run.raw_host.glob("*.jsonl")):
        read_host(path, builder, diag, plan.monitors.host.interval)


def latency_stats(h: Histogram) -> LatencyStats:
    """A µs histogram as millisecond statistics."""
    if not h.count:
        return LatencyStats()
    found = {name: h.percentile(q) / 1000.0 for name, q in PERCENTILES}
    return LatencyStats(count=h.count, max=h.max / 1000.0, mean=h.mean / 1000.0, **found)


def _summaries(plan: Plan, run: RunDir, native: dict[str, NativeTotals], labels: list[JmeterLabel],
               diag: Diagnostics) -> list[WorkloadSummary]:
    out = []
    for w in plan.workloads:
        if w.engine == "native" and w.name in native:
            summary = _native_summary(w.name, w.kind, native[w.name])
            if w.kind == "consumer":
                summary.lost, summary.lost_excluded = _lost(plan, run, w, native, diag)
        elif w.engine == "jmeter" and any(l.workload == w.name for l in labels):
            summary = _jmeter_summary(w.name, w.kind, [l for l in labels if l.workload == w.name])
        else:
            diag.note(run.raw, f"no results for workload {w.name} ({w.engine})")
            summary = WorkloadSummary(name=w.name, kind=w.kind, engine=w.engine)
        out.append(summary)
    return out


def _native_summary(name: str, kind: str, total: NativeTotals) -> WorkloadSummary:
    duration = total.duration_s
    consumer = kind == "consumer"
    return WorkloadSummary(
        name=name, kind=kind, engine="native", messages=total.messages, bytes=total.bytes, errors=total.errors,
        duration_s=duration,
        throughput=Throughput(msgs_per_s=total.messages / duration if duration else 0.0,
                              mb_per_s=total.bytes / 1e6 / duration if duration else 0.0, window_s=duration),
        latency_ms={k: latency_stats(h.to_histogram()) for k, h in sorted(total.hists.items())},
        duplicated=(total.end_duplicated if total.ended == total.instances else total.duplicated) if consumer else None,
        redelivered=total.redelivered if consumer else None,
        out_of_order=(total.end_out_of_order if total.ended == total.instances else total.out_of_order) if consumer else None,
        errors_by_code=_error_counts(total.error_codes),
    )


def _error_counts(codes: dict[str, tuple[int, float]]) -> list[ErrorCount]:
    """Most frequent first."""
    return [ErrorCount(code=code, count=n, first=first)
            for code, (n, first) in sorted(codes.items(), key=lambda kv: (-kv[1][0], kv[0]))]


_EXCLUDED = {
    BEFORE_START: "acknowledged at offsets before this consumer's start position (start: latest): it could never "
                  "read them",
    AFTER_STOP: "acknowledged at or beyond the position this consumer had reached when it stopped (its drain "
                "ended first): unread, not lost",
}


def _lost(plan: Plan, run: RunDir, consumer: ConsumerWorkload, native: dict[str, NativeTotals],
          diag: Diagnostics) -> tuple[int | None, list[LossExclusion]]:
    """|acked by the topic's native producers ∖ seen by this consumer workload|, less what it could not
    have seen (``ranges.audit``); None when a range is missing."""
    producers = [native[w.name] for w in plan.workloads
                 if w.kind == "producer" and w.engine == "native" and w.topic == consumer.topic and w.name in native]
    involved = producers + [native[consumer.name]]
    incomplete = [t.name for t in involved if t.ended != t.instances]
    if not producers or incomplete:
        reason = (f"instances of {', '.join(incomplete)} wrote no end record" if incomplete
                  else f"no native producer on topic {consumer.topic}")
        diag.note(run.raw_native, f"lost messages of {consumer.name} not computed: {reason}")
        return None, []
    acked: Ranges = {}
    offsets: dict[str, tuple[int, int]] = {}
    for producer in producers:
        add_ranges(acked, producer.ranges)
        offsets.update(producer.acked_offsets)
    seen = native[consumer.name]
    # a consumer that starts at the beginning of the log could have read everything still in it: what
    # was gone before it started (deleted by retention) is lost to it
    starts = seen.start_offsets if consumer.start == "latest" else {}
    result = audit(acked, seen.ranges, offsets, starts, seen.end_offsets)
    excluded = [LossExclusion(reason=reason, messages=n, partitions=sorted(partitions),
                              detail=_EXCLUDED[reason])
                for reason, (n, partitions) in sorted(result.excluded.items())]
    for e in excluded:
        diag.note(run.raw_native, f"{consumer.name}: {e.messages} unseen messages not counted as lost "
                                  f"(partitions {', '.join(map(str, e.partitions))}): {e.detail}")
    return result.lost, excluded


def _jmeter_summary(name: str, kind: str, labels: list[JmeterLabel]) -> WorkloadSummary:
    elapsed: dict[int, int] = {}
    for label in labels:
        for ms, n in label.elapsed.items():
            elapsed[ms] = elapsed.get(ms, 0) + n
    count, errors = sum(l.count for l in labels), sum(l.errors for l in labels)
    nbytes = sum(l.bytes for l in labels)
    first = min(l.first for l in labels if l.first is not None)
    duration = float(max(l.last for l in labels if l.last is not None) - first + 1)
    codes: dict[str, tuple[int, float]] = {}
    for label in labels:
        for code, (n, since) in label.error_codes.items():
            before, seen = codes.get(code, (0, since))
            codes[code] = (before + n, min(since, seen))
    latency = {"elapsed": elapsed_stats(elapsed)}
    if any(l.delay for l in labels):  # a generated producer: the native producer's three latencies
        latency |= {"publish_latency": latency["elapsed"],
                    "publish_delay": elapsed_stats(sum((l.delay for l in labels), Counter())),
                    "corrected_latency": elapsed_stats(sum((l.corrected for l in labels), Counter()))}
    return WorkloadSummary(
        name=name, kind=kind, engine="jmeter", messages=count - errors, bytes=nbytes, errors=errors, duration_s=duration,
        throughput=Throughput(msgs_per_s=(count - errors) / duration, mb_per_s=nbytes / 1e6 / duration, window_s=duration),
        latency_ms=latency, errors_by_code=_error_counts(codes),
    )
