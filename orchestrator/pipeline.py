"""``orchestrate apply``: run directory ▶ target ▶ topics ▶ components ▶ phase clock ▶ teardown ▶ report.

Everything after the run directory exists is undone in ``finally``: components are stopped (they
flush what they measured), topics marked ``delete_after`` are deleted, the local broker is stopped
(unless kept), and the report is built from ``raw/`` even when the run failed or was interrupted.
SIGINT/SIGTERM interrupt the run: an ``interrupt`` event is written, a partial report is built and
the outcome says 130. The run is bounded in time: phases + consumer drain + a fixed margin.
Whatever apply starts on this machine ends with it even when it dies (orchestrator.execute.lifeline).
"""

from __future__ import annotations

import json
import re
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from orchestrator.describe import describe
from orchestrator.errors import OrchestrateError, RunError
from orchestrator.events import EventKind, EventLog, step_detail, step_name
from orchestrator.execute.base import Component
from orchestrator.execute.lifeline import Lifeline
from orchestrator.execute.target import TargetSession
from orchestrator.plan.models import ConsumerWorkload, Plan, StepsPhase, Workload
from orchestrator.progress import Progress, Snapshot
from orchestrator.remote.ansible import EventSink
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.rundir import RunDir
from orchestrator.summary import Summary

if TYPE_CHECKING:
    from orchestrator.execute.drain import DrainDriver
    from orchestrator.execute.search import SearchDriver

    PhaseDriver = SearchDriver | DrainDriver

__all__ = ["Outcome", "apply", "describe"]

START_LEAD_S = 3.0  # components boot (processes, group joins) before the first phase begins
POLL_S = 0.5
ABORT_CHECK_S = 3.0
DRAIN_GRACE_S = 60.0  # beyond the consumers' own drain: final flushes and process exits
EXIT_INTERRUPTED = 130
SECRET_KEY = re.compile(r"password|secret|jaas|token|credential|private", re.IGNORECASE)
REDACTED = "<redacted>"


class Interrupted(BaseException):
    """SIGINT or SIGTERM during apply; a BaseException so no ``except Exception`` swallows it."""


@dataclass(frozen=True)
class Outcome:
    run_dir: Path
    summary: Summary | None
    interrupted: bool = False
    kept_broker: str | None = None

    def headline(self) -> str:
        report = self.run_dir / "report" / "index.html"
        kept = f" — broker left running at {self.kept_broker}" if self.kept_broker else ""
        if self.summary is None:
            return f"INTERRUPTED: no report could be built — raw results: {self.run_dir / 'raw'}{kept}"
        slos = self.summary.slos
        held = sum(1 for s in slos if s.verdict == "pass")
        failed = [s.name for s in slos if s.verdict == "fail"]
        if self.interrupted:
            verdict = f"INTERRUPTED: partial report, {held}/{len(slos)} SLOs held so far"
        elif self.summary.verdict == "pass":
            verdict = f"PASS: {held}/{len(slos)} SLOs held" if slos else "PASS: no SLOs to judge"
        else:
            verdict = f"FAIL: {held}/{len(slos)} SLOs held; failed: {', '.join(failed) or 'see report'}"
        if self.summary.run.status == "aborted":
            verdict += f" (aborted: {self.summary.run.reason})"
        return f"{verdict} — report: {report}{kept}"

    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 0 if self.summary is not None and self.summary.verdict == "pass" else 1


# --------------------------------------------------------------------------- the resolved plan


def _redact(node: object) -> object:
    """Any mapping entry whose key looks secret (``*_env`` keys only name variables and stay)."""
    if isinstance(node, dict):
        def secret(key: str, value: object) -> bool:
            return bool(SECRET_KEY.search(key)) and not key.endswith("_env") and not isinstance(value, (dict, list))

        return {k: REDACTED if secret(str(k), v) else _redact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact(v) for v in node]
    return node


def redacted_plan(plan: Plan) -> dict:
    """The effective plan as data, with the value of every property whose key looks secret replaced."""
    return _redact(plan.model_dump(mode="json", by_alias=True))  # type: ignore[return-value]


def write_resolved_plan(plan: Plan, path: Path) -> None:
    header = "# The effective plan of this run (defaults and --set applied; secret values redacted)\n"
    path.write_text(header + yaml.safe_dump(redacted_plan(plan), sort_keys=False, allow_unicode=True), encoding="utf-8")


# --------------------------------------------------------------------------- components


@dataclass
class Components:
    """Started in the order of ``all`` and stopped in reverse: helpers first up and last down, and
    consumers before the loads that feed them, so that consumers are in their groups when producers
    begin, and on any stop read what the producers had sent before they ended."""

    loads: list[Component] = field(default_factory=list)  # producers, scripts: finish by themselves after the schedule
    consumers: list[Component] = field(default_factory=list)  # finish after draining what the loads sent
    helpers: list[Component] = field(default_factory=list)  # monitors and faults: run until stopped

    @property
    def workloads(self) -> list[Component]:
        return [*self.consumers, *self.loads]

    @property
    def all(self) -> list[Component]:
        return [*self.helpers, *self.workloads]


def _native(plan: Plan, workload: Workload, run: RunDir, plan_path: Path, hosts: HostPlaybooks | None) -> Component:
    from orchestrator.execute.native import LocalRunners, NativeWorkload, RunnerTransport

    transport: RunnerTransport
    if workload.agents:
        from orchestrator.execute.agent_runners import AgentRunners

        if hosts is None:
            raise RunError(f"workload {workload.name}: agents {', '.join(workload.agents)} need the plan's inventory")
        transport = AgentRunners(workload.name, list(workload.agents), run, hosts, plan.total_duration)
    else:
        transport = LocalRunners(workload.name, run)
    return NativeWorkload(plan, workload, run, transport)


def _jmeter(plan: Plan, workload: Workload, run: RunDir, plan_path: Path, hosts: HostPlaybooks | None) -> Component:
    from orchestrator.execute.taurus import TaurusWorkload

    return TaurusWorkload(plan, workload, run, plan_path, hosts)


# load engine (the workload's ``engine``) -> the component that runs its load
LOAD_ENGINES: dict[str, Callable[[Plan, Workload, RunDir, Path, HostPlaybooks | None], Component]] = {
    "native": _native,
    "jmeter": _jmeter,
}


def build_components(plan: Plan, plan_path: Path, run: RunDir, events: EventLog, session: TargetSession) -> Components:
    # one runner of host playbooks for the whole apply, shared by every component that reaches a host
    hosts = HostPlaybooks(plan, plan_path, run.ansible_dir, session.on_event) if plan.inventory is not None else None
    out = Components()
    for w in plan.workloads:
        (out.consumers if isinstance(w, ConsumerWorkload) else out.loads).append(LOAD_ENGINES[w.engine](plan, w, run, plan_path, hosts))
    if plan.monitors.iostat.enabled:
        out.helpers.append(_iostat(plan, run, hosts))
    if plan.monitors.kafka_admin.enabled:
        from orchestrator.execute.monitor import KafkaAdminSampler

        out.helpers.append(KafkaAdminSampler(plan, run))
    if plan.monitors.jmx.enabled:
        from orchestrator.execute.broker_jmx import BrokerJmxMonitor

        out.helpers.append(BrokerJmxMonitor(plan, run))
    if plan.monitors.host.enabled:
        from orchestrator.execute.host_metrics import HostSampler

        out.helpers.append(HostSampler(plan, run))
    if plan.faults:
        from orchestrator.execute.fault import ScheduledFault
        from orchestrator.execute.local_kafka import NODE_ID

        local = {NODE_ID: session.local} if session.local is not None else {}
        # brokers on other hosts fail through the kafka role's fault steps
        remote = hosts if plan.target.kind == "provisioned" else None
        out.helpers.extend(ScheduledFault(spec, events, local, remote) for spec in plan.faults)
    return out


def _iostat(plan: Plan, run: RunDir, hosts: HostPlaybooks | None) -> Component:
    """iostat where the brokers' disks are: each inventory broker host (provisioned or not), or this machine."""
    if hosts is not None and any("broker" in h.roles for h in plan.inventory.hosts):
        from orchestrator.execute.remote_iostat import RemoteIostat

        return RemoteIostat(plan, run, hosts)
    from orchestrator.execute.monitor import LocalIostat

    return LocalIostat(plan, run)


def _stop_all(components: list[Component]) -> list[str]:
    """Stop every component in the reverse of the start order (each stop waits for its processes),
    even when some fail to stop; returns the failures."""
    problems = []
    for component in reversed(components):
        try:
            component.stop()
        except Exception as err:  # noqa: BLE001 - the others must still stop and flush
            problems.append(f"{component.name}: {err}")
    return problems


# --------------------------------------------------------------------------- the phase clock


@dataclass
class PhaseClock:
    """Writes phase_start/phase_end at the scheduled boundaries as the run passes them, and
    step_start/step_end around each step of a steps phase. A search or a drain (always the last
    phase) ends when it has its answer: ``end_at`` moves the final boundary there."""

    plan: Plan
    start_at: float
    events: EventLog
    passed: int = 0  # marks written so far
    current: str = "starting"
    ended_at: float | None = None

    def boundaries(self) -> list[float]:
        times, at = [], self.start_at
        for phase in self.plan.phases:
            times.append(at)
            at += phase.duration
        end = at if self.ended_at is None else min(at, self.ended_at)
        return [*times, end]

    def end_at(self, ts: float) -> None:
        self.ended_at = ts

    def marks(self) -> list[tuple[float, EventKind, str, str]]:
        times, out = self.boundaries(), []
        for i, phase in enumerate(self.plan.phases):
            out.append((times[i], "phase_start", phase.name, phase.kind))
            if isinstance(phase, StepsPhase):
                for n, rate in enumerate(phase.rates):
                    at, name = times[i] + n * phase.step_duration, step_name(phase.name, n + 1)
                    out += [(at, "step_start", name, step_detail("step", rate)), (at + phase.step_duration, "step_end", name, "")]
            out.append((times[i + 1], "phase_end", phase.name, ""))
        return out

    def advance(self, now: float) -> None:
        marks = self.marks()
        while self.passed < len(marks) and marks[self.passed][0] <= now:
            ts, kind, name, detail = marks[self.passed]
            self.events.write(kind, name, detail, ts=ts)
            if kind == "phase_start":
                self.current = name
            elif kind == "phase_end" and self.passed == len(marks) - 1:
                self.current = "draining"
            self.passed += 1

    def close(self, now: float) -> None:
        """End the step and phase cut short (abort, interrupt, failure) at ``now``."""
        marks = self.marks()
        if not 0 < self.passed < len(marks):
            return
        pending = marks[self.passed:]
        started = {name for _, kind, name, _ in marks[:self.passed] if kind in ("phase_start", "step_start")}
        for _, kind, name, _ in pending:
            if kind in ("step_end", "phase_end") and name in started:
                self.events.write(kind, name, "cut short", ts=now)
        self.passed = len(marks)


def _drain_bound(plan: Plan) -> float:
    drains = [w.drain for w in plan.workloads if isinstance(w, ConsumerWorkload)]
    return max(drains, default=0.0) + DRAIN_GRACE_S


def _snapshot(clock: PhaseClock, components: Components, now: float) -> Snapshot:
    stats = [c.live_stats() for c in components.workloads]
    end = clock.boundaries()[-1]
    lags = [s.lag for s in stats if s.lag is not None]
    return Snapshot(phase=clock.current, elapsed_s=now - clock.start_at, remaining_s=end - now,
                    produced_per_s=sum(s.produced_per_s for s in stats),
                    consumed_per_s=sum(s.consumed_per_s for s in stats), errors=sum(s.errors for s in stats),
                    publish_p99_ms=_worst(s.publish_p99_ms for s in stats), e2e_p99_ms=_worst(s.e2e_p99_ms for s in stats),
                    lag=sum(lags) if lags else None)


def _worst(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def drive(plan: Plan, run: RunDir, components: Components, clock: PhaseClock, progress: Progress,
          driver: PhaseDriver | None = None) -> None:
    """Poll every component until the loads finish after the last phase, an abort SLO breaks, or
    the time bound passes. A search decides its probes as it goes, a drain when its consumers start;
    either ends the last phase early."""
    watch = _abort_watch(plan, run)
    next_check = clock.start_at + ABORT_CHECK_S
    while True:
        now = time.time()
        clock.advance(now)
        if driver is not None and (ended := driver.poll(now)) is not None:
            clock.end_at(ended)
        end = clock.boundaries()[-1]
        running = [c for c in components.workloads if c.poll()]
        for helper in components.helpers:
            helper.poll()
        # once the loads have finished, consumers that drain on stop are stopped (and read to the
        # log end) rather than waited for until they have been idle for their drain time
        if (now >= end and all(c.stops_by_draining for c in running)) or now >= end + _drain_bound(plan):
            return
        if watch is not None and now >= next_check:
            next_check = now + ABORT_CHECK_S
            breach = watch.check()
            if breach is not None:
                clock.events.write("slo_breach", breach.name, f"observed {breach.observed} vs {breach.op} {breach.threshold}")
                clock.events.write("abort", breach.name, f"SLO {breach.name} breached ({breach.metric})")
                return
        progress.update(_snapshot(clock, components, now))
        time.sleep(POLL_S)


def _phase_driver(plan: Plan, run: RunDir, clock: PhaseClock) -> PhaseDriver | None:
    """The driver of the plan's search or drain phase (the last one); a search announces its first probe now."""
    from orchestrator.analyze.consumer import drain_phase
    from orchestrator.analyze.steps import search_phase
    from orchestrator.execute.drain import DrainDriver
    from orchestrator.execute.search import SearchDriver

    if search_phase(plan) is not None:
        return SearchDriver(plan, run, clock.events, clock.boundaries()[-2], clock.start_at)
    if drain_phase(plan) is not None:
        return DrainDriver(plan, run, clock.events, clock.boundaries()[-2], clock.start_at)
    return None


def _abort_watch(plan: Plan, run: RunDir):
    if not any(slo.abort for slo in plan.slos):
        return None
    from orchestrator.analyze.slo import AbortWatch

    return AbortWatch(plan, run)


# --------------------------------------------------------------------------- apply


class SignalGuard:
    """The first SIGINT/SIGTERM raises Interrupted, unless shielded (teardown is under way): then it
    is only recorded. Later signals are ignored so that teardown and the report finish."""

    def __init__(self) -> None:
        self.received: str | None = None
        self.shielded = False

    def handler(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name
            if not self.shielded:
                raise Interrupted(signum)

    @contextmanager
    def installed(self) -> Iterator["SignalGuard"]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)


def _run(plan: Plan, plan_path: Path, run: RunDir, session: TargetSession, events: EventLog,
         progress: Progress, guard: SignalGuard) -> None:
    from orchestrator.execute.drain import check_backlog_fits
    from orchestrator.execute.topics import ensure_topics

    progress.step(f"target {plan.target.kind}: starting")
    cluster = session.open()
    ready_at = time.time()
    check_backlog_fits(plan, run)
    progress.step("topics")
    ensure_topics(cluster, plan.topics)
    components = build_components(plan, plan_path, run, events, session)
    clock: PhaseClock | None = None
    driver: PhaseDriver | None = None
    usage: _OwnUsage | None = None
    try:
        for component in components.all:
            progress.step(f"preparing {component.name}")
            component.prepare(cluster)
        start_at = time.time() + max([START_LEAD_S, *(c.lead_s for c in components.all)])
        clock = PhaseClock(plan, start_at, events)
        events.write("run_start", plan.metadata.name, f"bootstrap {cluster.bootstrap_servers}", ts=start_at)
        driver = _phase_driver(plan, run, clock)
        usage = _OwnUsage(ready_at, start_at)
        for component in components.all:
            component.schedule(start_at)
            component.start()
        drive(plan, run, components, clock, progress, driver)
    finally:
        guard.shielded = True
        if driver is not None:
            driver.close(time.time())
        if clock is not None:
            clock.close(time.time())
        progress.step("stopping")
        problems = _stop_all(components.all)
        if usage is not None:
            usage.write(run.orchestrator_usage)
        events.write("run_end", plan.metadata.name, "; ".join(problems))


class _OwnUsage:
    """apply's own CPU from the components' start to their stop (its threads included: the admin
    monitor, playbook waits; runners, brokers and JMeter are other processes), and its peak memory."""

    def __init__(self, cluster_ready: float, load_start: float):
        self.cluster_ready, self.load_start = cluster_ready, load_start
        self.since, self.cpu_before = time.time(), _own_cpu_s()

    def write(self, path: Path) -> None:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        path.write_text(json.dumps({"cluster_ready": self.cluster_ready, "load_start": self.load_start,
                                    "since": self.since, "until": time.time(), "cpu_s": _own_cpu_s() - self.cpu_before,
                                    "max_rss_kb": peak_kb}), encoding="utf-8")


def _own_cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _teardown(plan: Plan, session: TargetSession, keep_broker: bool) -> tuple[str | None, list[str]]:
    """Delete delete_after topics and stop the target; never raises, returns problems instead."""
    problems = []
    if session.cluster is not None and any(t.delete_after for t in plan.topics):
        from orchestrator.execute.topics import delete_topics

        try:
            delete_topics(session.cluster, plan.topics)
        except OrchestrateError as err:
            problems.append(str(err))
    try:
        return session.close(keep_broker), problems
    except OrchestrateError as err:
        return None, [*problems, str(err)]


def _one_line(err: BaseException, run: RunDir) -> OrchestrateError:
    if isinstance(err, OrchestrateError):
        return err
    first = (str(err).splitlines() or [""])[0]
    return RunError(f"{type(err).__name__}: {first} (raw results kept in {run.root})")


def build_report(run: RunDir) -> Summary:
    from orchestrator.report.build import build

    return build(run.root)


def apply(plan: Plan, plan_path: Path, run_dir: Path | None, keep_broker: bool, progress: Progress) -> Outcome:
    from orchestrator.remote.secrets import check_secrets

    check_secrets(plan)
    run = RunDir.create(plan.metadata.name, explicit=run_dir)
    write_resolved_plan(plan, run.resolved_plan)
    events = EventLog(run.events)
    session = TargetSession(plan, Path(plan_path), run, progress.ansible)
    failure: BaseException | None = None
    with Lifeline(run.root), SignalGuard().installed() as guard:
        try:
            _run(plan, Path(plan_path), run, session, events, progress, guard)
        except Interrupted:
            pass
        except Exception as err:  # noqa: BLE001 - re-raised below, after teardown and the report
            failure = err
        finally:
            guard.shielded = True
            if guard.received is not None:
                events.write("interrupt", guard.received, "stopped by signal; results measured so far are kept")
            kept, problems = _teardown(plan, session, keep_broker)
            progress.step("building the report")
            try:
                summary: Summary | None = build_report(run)
            except Exception as err:  # noqa: BLE001 - the run's own failure, if any, matters more
                summary, failure = None, failure or err
            progress.close()
    interrupted = guard.received is not None
    if not interrupted and failure is not None:
        raise _one_line(failure, run) from failure
    if not interrupted and problems:
        raise RunError(f"{run.root}: teardown: {problems[0]}")
    return Outcome(run.root, summary, interrupted, kept)


def provision(plan: Plan, plan_path: Path, on_event: EventSink | None = None) -> str:
    """``orchestrate provision``: install and start the cluster and agents, then ask the host of
    each fault's broker for what the fault needs, so that a fault the host cannot perform is refused
    now (one line naming the host and what it lacks) rather than when a run prepares it."""
    from orchestrator import provision as provisioning
    from orchestrator.execute.fault import checked_action
    from orchestrator.remote.playbooks import state_dir

    done = provisioning.provision(plan, plan_path, on_event)
    if plan.faults and plan.target.kind == "provisioned":
        ansible_dir = state_dir(plan) / "ansible"
        cluster = provisioning.running_cluster(plan, plan_path, ansible_dir, on_event)
        hosts = HostPlaybooks(plan, plan_path, ansible_dir, on_event)
        for spec in plan.faults:
            try:
                checked_action(spec, cluster, {}, hosts)
            except RunError as err:
                raise RunError(f"{err} ({done}; it stays up until `orchestrate destroy`)") from None
    return done
