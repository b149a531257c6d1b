"""``orchestrate plan``: the ordered steps apply will take, with the effective settings. Pure."""

from __future__ import annotations

from pathlib import Path

from orchestrator.cluster import client_security
from orchestrator.plan.faults import ACTIONS
from orchestrator.plan.models import (ConsumerWorkload, DrainPhase, ExistingTarget, FixedSize, LocalTarget, NormalSize,
                                      Phase, Plan, ProducerWorkload, RampPhase, SearchPhase, StepsPhase, UniformSize,
                                      Workload)
from orchestrator.plan.units import format_duration


def _rate(rate: float | str | None) -> str:
    if rate is None:
        return "each workload's rate"
    return "unthrottled" if rate == "max" else f"{rate:,.0f} msg/s"


def _offset(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}"


def _mib(size: int) -> str:
    return f"{size / 1024**2:g} MiB"


def _size(dist: FixedSize | UniformSize | NormalSize) -> str:
    if isinstance(dist, UniformSize):
        return f"uniform {dist.min}..{dist.max} B"
    if isinstance(dist, NormalSize):
        return f"normal mean {dist.mean} B, stddev {dist.stddev} B, within {dist.min}..{dist.max} B"
    return f"{dist.size} B"


def _target(plan: Plan) -> list[str]:
    target = plan.target
    if isinstance(target, LocalTarget):
        props = ", ".join(f"{k}={v}" for k, v in target.properties.items())
        return [f"start a local Apache Kafka {target.kafka_version} broker (KRaft, broker+controller, node 0) on "
                f"127.0.0.1 at a free port, heap {_mib(target.heap)}, data under RUN_DIR/broker"
                + (f", properties {props}" if props else "")]
    config, secrets = client_security(target.security)
    secret_text = ", ".join(f"{prop} from ${env}" for prop, env in secrets.items())
    security = target.security.protocol + (f" ({secret_text})" if secret_text else "")
    if isinstance(target, ExistingTarget):
        return [f"connect to the existing cluster at {', '.join(target.bootstrap_servers)}, security {security}"]
    hosts = [h.name for h in (plan.inventory.hosts if plan.inventory else []) if "broker" in h.roles]
    action = "provision Kafka through Ansible on" if plan.provision else "use the provisioned cluster on"
    return [f"{action} {', '.join(hosts) or 'the inventory'}, security {security}"]


def _topics(plan: Plan) -> list[str]:
    lines = []
    for t in plan.topics:
        configs = ", ".join(f"{k}={v}" for k, v in t.kafka_configs().items()) or "broker defaults"
        lines.append(f"ensure topic {t.name}: {t.partitions} partitions, replication factor {t.replication_factor}, "
                     f"configs {configs}; if it exists: {t.if_exists}" + ("; deleted after the run" if t.delete_after else ""))
    return lines


def _workload(w: Workload) -> str:
    where = f"on agents {', '.join(w.agents)}" if w.agents else "on this machine"
    head = f"workload {w.name}: {w.kind}, engine {w.engine}, {w.instances} instance(s) {where}"
    if isinstance(w, ProducerWorkload):
        per = "unthrottled" if w.rate == "max" else f"{w.rate / w.instances:,.1f} msg/s per instance"
        size = f"lines of {w.message.payload_file}" if w.message.payload_file else _size(w.message.size_distribution())  # type: ignore[arg-type]
        return (f"{head}: topic {w.topic}, rate {_rate(w.rate)} ({per}), message {size}, acks {w.acks}, "
                f"compression {w.compression}, linger {format_duration(w.linger)}, batch {w.batch_size} B, "
                f"idempotence {'on' if w.idempotence else 'off'}")
    if isinstance(w, ConsumerWorkload):
        cost = (f", processing {w.processing.distribution} cost per message, mean "
                f"{w.processing.mean_s * 1000:g} ms" if w.processing is not None else "")
        return (f"{head}: topic {w.topic}, group {w.group or 'orchestrate-' + w.name}, from {w.start}, "
                f"drain until idle {format_duration(w.drain)}{cost}")
    return f"{head}: JMeter script {w.script}" + (f", topic {w.topic}" if w.topic else "")


def _search(phase: SearchPhase, at: float) -> str:
    return (f"{_offset(at)} phase {phase.name}: search for the highest rate that holds {', '.join(phase.slos)}, "
            f"from {_rate(phase.start_rate)} times {phase.growth:g} up to at most {_rate(phase.max_rate)}, then "
            f"bisecting to {phase.resolution * 100:g} %; each probe settles {format_duration(phase.settle)} and is "
            f"measured {format_duration(phase.measure)}, the answer confirmed over {format_duration(phase.confirm)}; "
            f"ends with the answer, at most {phase.max_probes} probes ({format_duration(phase.duration)})")


def _drain(phase: DrainPhase, at: float) -> str:
    backlog = (f"{phase.backlog_messages:,} messages" if phase.backlog_messages is not None
               else f"{phase.backlog:,} B of messages")
    return (f"{_offset(at)} phase {phase.name}: drain: the producer writes a backlog of {backlog} unthrottled "
            f"while the consumers hold off; once it is acknowledged they read it; ends when it is read, at most "
            f"{format_duration(phase.timeout)}")


def _phase(phase: Phase, at: float) -> str:
    if isinstance(phase, SearchPhase):
        return _search(phase, at)
    if isinstance(phase, DrainPhase):
        return _drain(phase, at)
    if isinstance(phase, RampPhase):
        rate = f"ramp {_rate(phase.rate_from)} → {_rate(phase.rate_to)}"
    elif isinstance(phase, StepsPhase):
        rate = f"steps of {format_duration(phase.step_duration)}: {', '.join(_rate(r) for r in phase.rates)}"
    else:
        rate = f"rate {_rate(phase.rate)}"
    judged = " (excluded from SLO verdicts)" if phase.kind == "warmup" else ""
    return f"{_offset(at)} phase {phase.name}: {phase.kind} for {format_duration(phase.duration)}, {rate}{judged}"


def _timeline(plan: Plan) -> list[str]:
    lines, at = [], 0.0
    for phase in plan.phases:
        lines.append(_phase(phase, at))
        at += phase.duration
    last = plan.phases[-1]
    latest = (" at the latest (the search ends when it has its answer)" if isinstance(last, SearchPhase) else
              " at the latest (the drain ends when the backlog is read)" if isinstance(last, DrainPhase) else "")
    lines.append(f"{_offset(at)} phases end{latest}; consumers drain, then every component stops")
    return lines


def _observers(plan: Plan) -> list[str]:
    lines = []
    if plan.monitors.iostat.enabled:
        where = "each broker host" if plan.target.kind == "provisioned" else "this machine"
        lines.append(f"monitor: iostat on {where} every {format_duration(plan.monitors.iostat.interval)}")
    if plan.monitors.kafka_admin.enabled:
        lines.append(f"monitor: Kafka admin samples every {format_duration(plan.monitors.kafka_admin.interval)}")
    for f in plan.faults:
        # a whole-cluster fault (a rolling restart) ends when done, by the end of its duration
        whole = ACTIONS[f.action].whole_cluster
        on, end = ("every broker in turn", "done by") if whole else (f"broker {f.broker}", "undone at")
        lines.append(f"fault {f.name}: {_offset(f.at)} {f.action} on {on}, {end} {_offset(f.at + f.duration)}")
    return lines


def _slos(plan: Plan) -> list[str]:
    lines = []
    searched = {name for p in plan.phases if isinstance(p, SearchPhase) for name in p.slos}
    for s in plan.slos:
        scope = f"workload {s.workload}" if s.workload else "all workloads"
        phase = f"phase {s.phase}" if s.phase else "every phase but warm-ups"
        if s.name in searched:
            phase = "each probe of the search; the verdict over its confirmation and the phases before it"
        extra = (f", sustained {format_duration(s.sustained)}" if s.sustained else "") + (
            ", aborts the run when breached" if s.abort else "")
        lines.append(f"SLO {s.name}: {s.metric} {s.op} {s.threshold} ({scope}, {phase}{extra})")
    return lines


def describe(plan: Plan, plan_path: Path) -> list[str]:
    """Numbered steps; sub-lines are indented under the step they belong to."""
    steps: list[tuple[str, list[str]]] = [
        (f"create the run directory runs/{plan.metadata.name}-<UTC timestamp>/ (or --run-dir) and write "
         "plan.resolved.yaml (secret values redacted)", []),
        ("bring up the target", _target(plan)),
        ("ensure topics", _topics(plan) or ["none declared"]),
        ("prepare workloads", [_workload(w) for w in plan.workloads]),
        ("start monitors and faults", _observers(plan) or ["none"]),
        (f"run the phases ({format_duration(plan.total_duration)} in all), from a common start a few seconds "
         "after every component is ready", _timeline(plan)),
        ("judge SLOs", _slos(plan) or ["none declared: the run passes when it completes"]),
        ("tear down: stop components, delete topics marked delete_after, stop the target's broker "
         "(a local one stays up with --keep-broker)", []),
        (f"report from raw/: summary.json, {', '.join(plan.report.formats)} outputs, report/index.html", []),
    ]
    lines = [f"plan {plan.metadata.name} ({plan_path})"]
    for number, (title, details) in enumerate(steps, start=1):
        lines.append(f"{number}. {title}")
        lines.extend(f"   - {d}" for d in details)
    return lines
