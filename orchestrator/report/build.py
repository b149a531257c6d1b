"""``orchestrate report RUN_DIR`` and the last stage of apply: every output of a run rebuilt from
``raw/`` and ``plan.resolved.yaml`` alone.

    collect ▶ SLO verdicts ▶ answers ▶ summary.json ▶ junit.xml ▶ results/timeline.csv
    ▶ results/omb.json ▶ results/hlog/*.hlog ▶ report/index.html

summary.json is written first, so a run keeps its verdicts even if a later output fails. Missing
or corrupt raw sources become warnings (in summary.json and the report), never a crash.
"""

from __future__ import annotations

import platform
from pathlib import Path

from orchestrator import __version__
from orchestrator.analyze.answers import AnalysisInput, answer_questions
from orchestrator.analyze.capacity import search_slo_scope, search_slo_windows
from orchestrator.analyze.figures import measured_figures
from orchestrator.analyze.placement import placement
from orchestrator.analyze.retention import project_disk
from orchestrator.analyze.sources import source_stats
from orchestrator.analyze.slo import Measured, MemoHistograms, evaluate, run_verdict
from orchestrator.analyze.stall import feeds
from orchestrator.analyze.steps import step_spans
from orchestrator.analyze.window import judged_window
from orchestrator.collect import Collected, collect
from orchestrator.errors import InputError
from orchestrator.plan.models import ExistingTarget, LocalTarget, Plan
from orchestrator.report.hlog import write_hlogs
from orchestrator.report.html import render_report, write_report
from orchestrator.report.junit import write_junit
from orchestrator.report.omb import write_omb
from orchestrator.report.timeline_csv import write_timeline_csv
from orchestrator.rundir import RunDir
from orchestrator.summary import Environment, Event, RunInfo, SloResult, Summary


def _check_run_dir(run: RunDir) -> None:
    if not run.root.is_dir():
        raise InputError(f"{run.root}: no such run directory")
    if not run.resolved_plan.is_file():
        raise InputError(f"{run.resolved_plan}: missing; {run.root} is not a run directory")


def run_info(run: RunDir, events: list[Event], collected: Collected) -> RunInfo:
    """Start and end from run_start/run_end (else the timeline), status from the events.

    apply writes run_start when the load starts and run_end whenever it wrote run_start, however the
    run ends (an abort before, an interrupt after it), unless the process itself died. So a run
    without run_start never began (``incomplete``); a run_start without run_end is ``killed``, or
    ``incomplete`` when an orderly stop (abort, interrupt) had begun and apply died before it ended."""
    tl = collected.timeline
    start = next((e.ts for e in events if e.kind == "run_start"), float(tl.start) if tl.length else None)
    end = next((e.ts for e in reversed(events) if e.kind == "run_end"), float(tl.start + tl.length) if tl.length else start)
    stop = next((e for e in events if e.kind in ("abort", "interrupt")), None)
    status, reason = "completed", ""
    if not any(e.kind == "run_start" for e in events):
        status, reason = "incomplete", "no run_start event: the run never began (or raw/events.jsonl is lost)"
    elif not any(e.kind == "run_end" for e in events):
        if stop is None:
            status, reason = "killed", "no run_end event: apply died during the run; results up to its death are kept"
        else:
            status = "incomplete"
            reason = (f"no run_end event: apply died while stopping after an {stop.kind} "
                      f"({stop.detail or stop.name}); results up to its death are kept")
    elif stop is not None:
        status, reason = ("aborted" if stop.kind == "abort" else "interrupted"), stop.detail or stop.name
    return RunInfo(id=run.root.name, started=start, ended=end,
                   duration_s=max(0.0, (end or 0.0) - (start or 0.0)), status=status, reason=reason)


def environment(plan: Plan, collected: Collected) -> Environment:
    """What the plan says about the cluster, completed by what the collector found in raw/."""
    found = collected.environment
    target = plan.target
    brokers = found.brokers or (list(target.bootstrap_servers) if isinstance(target, ExistingTarget) else
                                ["localhost"] if isinstance(target, LocalTarget) else
                                [h.name for h in (plan.inventory.hosts if plan.inventory else []) if "broker" in h.roles])
    agents = found.agents or sorted({a for w in plan.workloads for a in w.agents})
    engines = {"orchestrate": __version__, **found.engines}
    kafka = found.kafka_version or (target.kafka_version if isinstance(target, LocalTarget) else
                                    plan.provision.kafka_version if plan.provision else None)
    return Environment(kafka_version=kafka, brokers=brokers, agents=agents, engines=engines,
                       host=found.host or platform.node(), orchestrator=found.orchestrator)


def _mark_aborts(results: list[SloResult], events: list[Event]) -> list[SloResult]:
    aborted_by = {e.name for e in events if e.kind == "abort"}
    return [r.model_copy(update={"aborted_run": r.name in aborted_by}) for r in results]


def _search_scoped(results: list[SloResult], scope: dict[str, str]) -> list[SloResult]:
    """A search's SLOs say what they were judged over (its confirmation) instead of their phase."""
    return [r.model_copy(update={"phase": scope[r.name]}) if r.name in scope else r for r in results]


def local_free_bytes(run: RunDir, plan: Plan) -> float | None:
    """Free space under the local broker's data directory, when this run started the broker."""
    return run.broker_free_bytes() if isinstance(plan.target, LocalTarget) else None


def summarize(run: RunDir, plan: Plan, collected: Collected, measured: Measured | None = None) -> Summary:
    """``measured``: the same measurements with memoised histograms (see ``MemoHistograms``)."""
    measured = measured or collected
    steps = step_spans(collected.events, plan)
    slos = _mark_aborts(_search_scoped(evaluate(list(plan.slos), measured, search_slo_windows(plan, measured, steps), feeds(plan)),
                                       search_slo_scope(plan, measured, steps)), collected.events)
    info = run_info(run, collected.events, collected)
    window = judged_window(collected.phases, collected.timeline)
    answers, answer_warnings = answer_questions(AnalysisInput(
        plan, measured, window, slos, local_free_bytes(run, plan), steps=steps, cluster=collected.cluster,
        events=collected.events))
    return Summary(
        plan={"name": plan.metadata.name, "description": plan.metadata.description, "labels": dict(plan.metadata.labels)},
        run=info, verdict="fail" if info.unfinished else run_verdict(slos),
        environment=environment(plan, collected), phases=collected.phases, steps=steps,
        workloads=[measured_figures(w, measured, window) for w in collected.workloads],
        slos=slos, answers=answers, placement=placement(plan, collected.cluster),
        metrics=source_stats(collected.timeline, window), events=collected.events,
        warnings=collected.warnings + answer_warnings)


def write_outputs(run: RunDir, plan: Plan, collected: Collected) -> Summary:
    measured = MemoHistograms(collected)
    summary = summarize(run, plan, collected, measured)
    run.summary.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    window = judged_window(collected.phases, collected.timeline)
    formats = set(plan.report.formats)
    if "junit" in formats:
        write_junit(summary, run.junit)
    if "csv" in formats:
        write_timeline_csv(collected.timeline, run.timeline_csv)
    if "omb" in formats:
        write_omb(plan, measured, window, run.results / "omb.json")
    if "hlog" in formats:
        write_hlogs(measured, run.results / "hlog")
    if "html" in formats:
        disk = project_disk(plan, collected.timeline, window, collected.cluster, local_free_bytes(run, plan))
        write_report(render_report(plan, summary, measured, window, collected.jmeter_labels, disk), run.report_html)
    return summary


def build(run_dir: Path) -> Summary:
    run = RunDir(Path(run_dir))
    _check_run_dir(run)
    collected = collect(run)
    return write_outputs(run, collected.plan, collected)
