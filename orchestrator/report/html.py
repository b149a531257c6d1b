"""report/index.html: one self-contained page (templates/report.html.j2) that answers "did it hold,
where did it break, and why": verdicts first, then load, latency, errors, lag, disks, the brokers'
JMX, the hosts and log dirs
on one clock with phases and faults marked. A section without data is left out, and one line says
what was not measured and why; a series measured as zero throughout (no errors, no under-replicated
partitions) is said in a sentence instead of drawn flat."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from collections.abc import Callable
from functools import cache
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.analyze.latency import percentiles_ms, spectrum_for, stat_ms
from orchestrator.analyze.placement import skew_notes
from orchestrator.analyze.retention import DiskProjection, format_elapsed, format_size, project_disk
from orchestrator.analyze.slo import Measured, explain, merged_histogram, observe
from orchestrator.analyze.steps import slot_window
from orchestrator.analyze.window import Window
from orchestrator.collect.jtl import JmeterLabel
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.plan.metrics import spec
from orchestrator.plan.models import Plan
from orchestrator.plan.units import format_duration
from orchestrator.report.charts import (Chart, Line, Markers, Span, TimeChart, draw_all, interactive_data,
                                        spectrum_chart, time_chart)
from orchestrator.report.sources import BROKER_PANELS, HOST_PANELS, source_charts
from orchestrator.templating import TEMPLATES
from orchestrator.report.templates import render
from orchestrator.summary import Event, Summary

LATENCY_KINDS = (("publish_latency", "Publish latency (send ▶ ack)"),
                 ("publish_delay", "Publish delay (intended ▶ actual send)"),
                 ("corrected_latency", "Corrected latency (intended send ▶ ack)"),
                 ("e2e_latency", "End-to-end latency (produce ▶ consume)"))
TOP_ERRORS = 5  # as JMeter's dashboard: the five most frequent errors
# light to dark as the percentile rises; max dashed grey
PERCENTILE_COLORS = (("p50", "#93c5fd"), ("p90", "#3b82f6"), ("p99", "#1d4ed8"), ("p999", "#7c3aed"), ("max", "#6b7280"))
DISK_PANELS = (("IOPS", "ops/s", ("disk.r_per_s", "r/s"), ("disk.w_per_s", "w/s")),
               ("Throughput", "kB/s", ("disk.rkb_per_s", "rkB/s"), ("disk.wkb_per_s", "wkB/s")),
               ("Queue", "ms · requests", ("disk.await", "await (ms)"), ("disk.aqu_sz", "aqu-sz")),
               ("Utilisation", "%", ("disk.util", "%util")))


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    charts: list[Chart]
    empty_note: str  # why there is no data: the section is left out and this goes in "Not measured"
    intro: str = ""
    zero_note: str = ""  # measured, and zero every second: said in one line instead of a flat chart


def _all_zero(lines: list[Line]) -> bool:
    values = [v for line in lines for v in line.values if v is not None]
    return bool(values) and not any(values)


def _zero_or_chart(lines: list[Line], chart: Callable[[list[Line]], list[Chart]]) -> tuple[list[Chart], bool]:
    return ([], True) if _all_zero(lines) else (chart(lines), False)


@dataclass(frozen=True)
class DrawnChart:
    image: str  # SVG data URI: the printed and no-script version
    interactive: int | None  # index into the page's chart data, for time charts


@dataclass(frozen=True)
class DrawnSection:
    section: Section
    images: list[DrawnChart]


@cache
def _page_assets() -> dict[str, str]:
    """uPlot and our chart script, inlined (read raw: minified JS is no Jinja template)."""
    vendor = TEMPLATES / "vendor" / "uplot"
    return {"uplot_js": (vendor / "uPlot.iife.min.js").read_text(encoding="utf-8"),
            "uplot_css": (vendor / "uPlot.min.css").read_text(encoding="utf-8"),
            "charts_js": (TEMPLATES / "report-charts.js").read_text(encoding="utf-8")}


def _script_json(value: object) -> str:
    """JSON safe inside <script>: no '</' can end the element early."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _short_rate(rate: float) -> str:
    return f"{rate / 1000:.3g}k" if rate >= 1000 else f"{rate:.3g}"


def _markers(events: list[Event], summary: Summary, t0: int) -> Markers:
    spans = [Span(p.name, p.start - t0, (p.end if p.end is not None else p.start) - t0, "phase") for p in summary.phases]
    # each step's or probe's judged window, labelled with its number and intended rate
    spans += [Span(f"{s.name.rpartition('/')[2]}: {_short_rate(s.rate)}", s.measured_from - t0,
                   min(s.measured_to, s.end if s.end is not None else s.measured_to) - t0, "step") for s in summary.steps]
    open_faults: dict[str, float] = {}
    instants = []
    for e in events:
        if e.kind == "fault_start":
            open_faults[e.name] = e.ts
        elif e.kind == "fault_end" and e.name in open_faults:
            spans.append(Span(e.name, open_faults.pop(e.name) - t0, e.ts - t0, "fault"))
        elif e.kind in ("slo_breach", "abort", "interrupt", "backlog_written", "backlog_drained"):
            instants.append((f"{e.kind.replace('_', ' ')} {e.name}".strip(), e.ts - t0))
    end = summary.run.ended if summary.run.ended is not None else t0
    spans += [Span(name, start - t0, end - t0, "fault") for name, start in open_faults.items()]
    return Markers(spans, instants)


def _by_column(series: dict[SeriesKey, list[float | None]]) -> list[tuple[SeriesKey, list[float | None]]]:
    """Series in a stable order (keys hold None, so they do not sort among themselves)."""
    return sorted(series.items(), key=lambda kv: kv[0].column())


def _lines(timeline: Timeline, metric: str, name: str, labelled: bool = False) -> list[Line]:
    """One line per workload or host; with ``labelled``, also the series that carry a label (the
    consumer group of admin-sampled lag)."""
    return [Line(f"{' · '.join(x for x in (k.workload, k.host, k.label) if x) or 'all'} ({name})", v)
            for k, v in _by_column(timeline.select(metric)) if labelled or k.label is None]


def _combined_max(timeline: Timeline, metric: str) -> list[float | None] | None:
    found = [v for k, v in timeline.select(metric).items() if k.label is None]
    if not found:
        return None
    return [max((x for x in col if x is not None), default=None) for col in zip(*found)]


def _latency_panels(timeline: Timeline) -> list[tuple[str, str, list[Line]]]:
    panels = []
    for kind, title in LATENCY_KINDS:
        lines = [Line(stat, s, color, dashed=stat == "max") for stat, color in PERCENTILE_COLORS
                 if (s := _combined_max(timeline, f"{kind}.{stat}")) is not None]
        panels.append((title, "ms", lines))
    return panels


def _disk_charts(timeline: Timeline, markers: Markers) -> list[Chart]:
    devices = sorted({(k.host or "", k.device or "") for k in timeline.series if k.metric.startswith("disk.")})
    charts = []
    for host, device in devices:
        panels = []
        for title, unit, *metrics in DISK_PANELS:
            lines = [Line(name, s) for metric, name in metrics
                     for k, s in timeline.select(metric, host=host or None, device=device or None).items()]
            panels.append((f"{host or 'local'} · {device or 'all devices'} · {title}", unit, lines))
        if chart := time_chart(panels, markers, timeline.length):
            charts.append(chart)
    return charts


def _spectra(measured: Measured, summary: Summary, window: Window) -> list[Chart]:
    panels = []
    for kind, title in LATENCY_KINDS:
        curves = []
        for workload in [w.name for w in summary.workloads]:
            merged = merged_histogram(measured, kind, workload, window)
            if merged is not None and (qs := spectrum_for(merged.count)):
                curves.append((workload, qs, percentiles_ms(merged, qs)))
        panels.append((title, curves))
    return [c] if (c := spectrum_chart(panels)) else []


def _sections(plan: Plan, summary: Summary, measured: Measured, window: Window, markers: Markers) -> list[Section]:
    tl = measured.timeline

    def chart(panels: list[tuple[str, str, list[Line]]], log: bool = False) -> list[Chart]:
        return [c] if (c := time_chart(panels, markers, tl.length, log=log)) else []

    intended = [replace(line, dashed=True) for line in _lines(tl, "produce.intended_rate", "intended")]
    throughput = chart([("Messages per second", "msg/s", _lines(tl, "produce.rate", "produced") + intended
                         + _lines(tl, "consume.rate", "consumed")),
                        ("Megabytes per second", "MB/s", _lines(tl, "produce.throughput_mb", "produced") + _lines(tl, "consume.throughput_mb", "consumed"))])
    errors, no_errors = _zero_or_chart(
        _lines(tl, "produce.errors", "produce") + _lines(tl, "consume.errors", "consume") + _lines(tl, "jmeter.errors", "jmeter"),
        lambda lines: chart([("Errors per second", "errors/s", lines)]))
    healthy, all_healthy = _zero_or_chart(
        _lines(tl, "broker.under_replicated", "under-replicated") + _lines(tl, "broker.offline_partitions", "offline"),
        lambda lines: chart([("Partitions", "count", lines)]))
    consumers = any(w.kind == "consumer" for w in plan.workloads)
    jmeter_planned = any(w.engine == "jmeter" for w in plan.workloads)
    admin, iostat = plan.monitors.kafka_admin.enabled, plan.monitors.iostat.enabled
    log_dirs = chart([("Log-dir size", "GB", [Line(f"broker {k.host or ''}{' · ' + k.device if k.device else ''}".strip(),
                                                    [None if x is None else x / 1e9 for x in v])
                                                 for k, v in _by_column(tl.select("broker.log_dir_bytes"))
                                                 if k.label is None and k.workload is None])])
    brokers, brokers_zero = source_charts(tl, markers, BROKER_PANELS, "broker {}")
    hosts, hosts_zero = source_charts(tl, markers, HOST_PANELS, "{}")
    jmeter = chart([("Samples per second by label", "samples/s", [Line(k.label or "all", v) for k, v in _by_column(tl.select("jmeter.rate"))]),
                    ("Elapsed p99 by label", "ms", [Line(k.label or "all", v) for k, v in _by_column(tl.select("jmeter.elapsed.p99"))])])
    return [
        Section("throughput", "Throughput", throughput, "no producer or consumer throughput was recorded"),
        Section("latency", "Latency over time", chart(_latency_panels(tl), log=True),
                "no latency was recorded", "Per-second percentiles; with several workloads, the worst of them each second."),
        Section("distribution", "Latency distribution", _spectra(measured, summary, window),
                "no latency histograms were recorded", "Percentile spectrum from histograms merged over the measured window (warm-up excluded); each curve stops at the highest percentile its sample count resolves."),
        Section("errors", "Errors", errors, "no error series in the raw data",
                zero_note="No errors: 0 in every second of the run (all workloads)." if no_errors else ""),
        Section("lag", "Consumer lag", chart([
            ("Position lag: log end − the consumer's position (runner, every second)", "messages",
             _lines(tl, "consume.position_lag", "position lag")),
            ("Committed lag: log end − the group's committed offset (admin samples)", "messages",
             _lines(tl, "consume.committed_lag", "committed lag", labelled=True))]),
                "no consumer lag was recorded" if consumers or admin else "the plan has no consumer workload",
                "Committed lag trails position lag by what was consumed since the group's last commit "
                "(auto-commit every 5 s by default)."),
        Section("disk", "Disks", _disk_charts(tl, markers),
                "no iostat samples were recorded" if iostat else "monitors.iostat.enabled is false"),
        Section("broker_jmx", "Brokers (JMX)", brokers,
                "no JMX samples were recorded" if plan.monitors.jmx.enabled else "monitors.jmx.enabled is false",
                "Kafka's own metrics, read from each broker's JMX by JmxTool; interval values drawn over the interval they describe.",
                zero_note=brokers_zero),
        Section("hosts", "Hosts", hosts, "no host samples were recorded" if plan.monitors.host.enabled
                else "monitors.host.enabled is false", zero_note=hosts_zero),
        Section("logdirs", "Log directories", log_dirs,
                "no log-dir sizes were recorded" if admin else "monitors.kafka_admin.enabled is false"),
        Section("health", "Replication health", healthy,
                "no partition health samples were recorded" if admin else "monitors.kafka_admin.enabled is false",
                zero_note="No under-replicated or offline partitions in any admin sample." if all_healthy else ""),
        Section("jmeter", "JMeter samplers", jmeter,
                "no JMeter samples were recorded" if jmeter_planned else "the plan has no JMeter workload"),
    ]


def _step_rows(summary: Summary, measured: Measured) -> list[dict[str, object]]:
    """Per step of a steps phase: what was intended and what came out over the step."""
    rows = []
    for step in (s for s in summary.steps if s.role == "step"):
        window = slot_window(step.measured_from, step.measured_to)
        achieved = observe(measured, spec("produce.rate"), None, window, whole_run=False)
        merged = merged_histogram(measured, "publish_latency", None, window)
        errors = observe(measured, spec("produce.errors"), None, window, whole_run=False)
        rows.append({"step": step.name, "rate": step.rate, "achieved": achieved, "errors": errors,
                     "p99": stat_ms(merged, "p99") if merged is not None else None, "start": step.start})
    return rows


def _stamp(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if ts is not None else "–"


def render_report(plan: Plan, summary: Summary, measured: Measured, window: Window,
                  labels: list[JmeterLabel], disk: DiskProjection | None = None) -> str:
    """``disk``: the run's disk projection; without it, one from the timeline alone."""
    tl = measured.timeline
    markers = _markers(summary.events, summary, tl.start)
    sections = _sections(plan, summary, measured, window, markers)
    charts = [c for s in sections for c in s.charts]
    images = iter(draw_all(charts))
    data: list[dict] = []
    drawn = []
    for section in sections:
        shown = []
        for chart in section.charts:
            if isinstance(chart, TimeChart):
                data.append(interactive_data(chart))
            shown.append(DrawnChart(next(images), len(data) - 1 if isinstance(chart, TimeChart) else None))
        drawn.append(DrawnSection(section, shown))
    has_content = [bool(d.images or d.section.zero_note or (d.section.id == "jmeter" and labels)) for d in drawn]
    shown_sections = [d for d, shown in zip(drawn, has_content) if shown]
    not_measured = [f"{d.section.title} ({d.section.empty_note})" for d, shown in zip(drawn, has_content) if not shown]
    return render(
        "report.html.j2", plan=plan, summary=summary, title=plan.report.title or plan.metadata.name,
        slos=[(r, explain(r)) for r in summary.slos], sections=shown_sections, not_measured=not_measured,
        disk=disk or project_disk(plan, tl, window, ClusterFacts()), size=format_size, elapsed=format_elapsed,
        alarms=[a for a in summary.answers if a.alarm], labels=labels,
        skew=skew_notes(summary.placement) if summary.placement else [],
        top_errors=sorted(((w, e) for w in summary.workloads for e in w.errors_by_code),
                          key=lambda we: (-we[1].count, we[1].first))[:TOP_ERRORS],
        started=_stamp(summary.run.started), ended=_stamp(summary.run.ended), stamp=_stamp,
        since=lambda ts: f"+{format_duration(max(1, round(ts - (summary.run.started or ts))))}" if ts - (summary.run.started or ts) >= 1 else "+0s",
        duration=format_duration(round(summary.run.duration_s)) if summary.run.duration_s >= 1 else f"{summary.run.duration_s:.1f}s",
        latency_kinds=[k for k, _ in LATENCY_KINDS] + ["elapsed"], fmt_duration=format_duration,
        # a probe's step_end says how it went; the rest of the phase and step marks are on the charts
        events=[e for e in summary.events if e.kind not in ("phase_start", "phase_end", "step_start")
                and not (e.kind == "step_end" and not e.detail)],
        step_rows=_step_rows(summary, measured), measured_s=round(window.seconds),
        chart_data=_script_json(data), **_page_assets(),
    )


def write_report(html: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
