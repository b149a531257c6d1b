"""Cross-field checks on a whole plan: references, unique names, durations and topology.

Each check yields ``(path, message)`` with the path in the plan's own keys (aliases, list indexes),
so the loader can point at the exact line. ``Plan`` raises them together as one ``FieldProblems``.
This module only reads attributes, so models.py can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from difflib import get_close_matches
from typing import TYPE_CHECKING

from orchestrator.plan.sources import monitor_of
from orchestrator.plan.units import MAX_DURATION_S, format_duration

if TYPE_CHECKING:
    from orchestrator.plan.models import Plan

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

_PRODUCER_METRICS = ("produce.", "publish_latency.", "publish_delay.", "corrected_latency.")
_CONSUMER_METRICS = ("consume.", "e2e_latency.")


class FieldProblems(ValueError):
    """Problems found by a model validator, each at a path below the model that raised it.

    Pydantic wraps it in a ValidationError whose ``ctx['error']`` is this object; the loader turns
    each problem into its own FILE:LINE:COL issue."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, path))}: {message}" if path else message
                                   for path, message in problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    close = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def plan_problems(plan: Plan) -> list[Problem]:
    checks = (_unique_names, _workload_refs, _slo_refs, _phase_rates, _searches, _drains, _consumers, _faults, _topology,
              _agents)
    return [problem for check in checks for problem in check(plan)]


def _duplicates(items: list, base: Path) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.name in first:
            where = ".".join(map(str, (*base, first[item.name])))
            yield (*base, i, "name"), f"duplicate name {item.name!r} (already used by {where})"
        first.setdefault(item.name, i)


def _unique_names(plan: Plan) -> Iterator[Problem]:
    for section in ("topics", "workloads", "phases", "slos", "faults"):
        yield from _duplicates(getattr(plan, section), (section,))
    if plan.inventory is not None:
        yield from _duplicates(plan.inventory.hosts, ("inventory", "hosts"))


def _workload_refs(plan: Plan) -> Iterator[Problem]:
    declared = [t.name for t in plan.topics]
    for i, workload in enumerate(plan.workloads):
        if workload.topic is not None and workload.topic not in declared:
            listed = ", ".join(declared) if declared else "none"
            yield (("workloads", i, "topic"), f"topic {workload.topic!r} is not declared under 'topics' "
                   f"(declared: {listed}){did_you_mean(workload.topic, declared)}")


def _slo_refs(plan: Plan) -> Iterator[Problem]:
    workloads = {w.name: w for w in plan.workloads}
    phases = {p.name: p for p in plan.phases}
    for i, slo in enumerate(plan.slos):
        if slo.workload is not None and slo.workload not in workloads:
            yield ("slos", i, "workload"), f"no workload named {slo.workload!r}{did_you_mean(slo.workload, workloads)}"
        if slo.phase is not None and slo.phase not in phases:
            yield ("slos", i, "phase"), f"no phase named {slo.phase!r}{did_you_mean(slo.phase, phases)}"
        scope = [workloads[slo.workload]] if slo.workload in workloads else list(workloads.values())
        if problem := _metric_mismatch(plan, slo.metric, scope, slo.workload):
            yield ("slos", i, "metric"), problem
        window = phases[slo.phase].duration if slo.phase in phases else _measured_duration(plan)
        if slo.sustained is not None and slo.sustained > window:
            yield (("slos", i, "sustained"), f"sustained {format_duration(slo.sustained)} is longer than the "
                   f"{format_duration(window)} the SLO is evaluated over")


def _measured_duration(plan: Plan) -> float:
    measured = sum(p.duration for p in plan.phases if p.kind != "warmup")
    return measured or plan.total_duration


def _metric_mismatch(plan: Plan, metric: str, scope: list, named: str | None) -> str | None:
    """Why the metric can never be measured for the SLO's workloads, or None."""

    def lacking(what: str) -> str:
        return f"workload {named!r} is not a {what}" if named else f"the plan has no {what}"

    if metric.startswith(_PRODUCER_METRICS) and not any(w.kind == "producer" for w in scope):
        return f"{metric} is measured by producers, and {lacking('producer workload')}"
    if metric.startswith(_CONSUMER_METRICS) and not any(w.kind == "consumer" for w in scope):
        return f"{metric} is measured by consumers, and {lacking('consumer workload')}"
    if metric.startswith("jmeter.") and not any(w.engine == "jmeter" for w in scope):
        return f"{metric} is measured by JMeter, and {lacking('jmeter-engine workload')}"
    if metric.startswith(("disk.", "broker.", "host.")) and named:
        return f"{metric} is measured per broker host, not per workload: remove 'workload'"
    if metric.startswith("disk.") and not plan.monitors.iostat.enabled:
        return f"{metric} needs monitors.iostat.enabled"
    if (monitor := monitor_of(metric)) is not None:
        return None if getattr(plan.monitors, monitor).enabled else f"{metric} needs monitors.{monitor}.enabled"
    if metric.startswith("broker.") and not plan.monitors.kafka_admin.enabled:
        return f"{metric} needs monitors.kafka_admin.enabled"
    return None


def _phase_rates(plan: Plan) -> Iterator[Problem]:
    for i, phase in enumerate(plan.phases):
        if phase.kind == "ramp":
            for key, rate in (("from", phase.rate_from), ("to", phase.rate_to)):
                if rate == "max":
                    yield ("phases", i, key), "a ramp needs numeric rates such as '1k/s', not 'max'"
        if phase.kind == "steps":
            for j, rate in enumerate(phase.rates):
                if rate == "max":
                    yield ("phases", i, "rates", j), "steps need numeric rates such as '1k/s', not 'max'"
        if phase.kind == "search":
            for key in ("start_rate", "max_rate"):
                if getattr(phase, key) == "max":
                    yield ("phases", i, key), "a search needs numeric rates such as '1k/s', not 'max'"
    if plan.total_duration > MAX_DURATION_S:
        yield (("phases",), f"the phases add up to {format_duration(plan.total_duration)}, more than the "
               f"maximum of {format_duration(MAX_DURATION_S)}")


def _faults(plan: Plan) -> Iterator[Problem]:
    total = plan.total_duration
    brokers = _hosts_with_role(plan, "broker")
    for i, fault in enumerate(plan.faults):
        if fault.at >= total:
            yield (("faults", i, "at"), f"at {format_duration(fault.at)} is not within the run "
                   f"(the phases end at {format_duration(total)})")
        elif fault.at + fault.duration > total:
            yield (("faults", i, "duration"), f"the fault ends at {format_duration(fault.at + fault.duration)}, "
                   f"after the phases end at {format_duration(total)}, so recovery would not be observed")
        if plan.target.kind == "existing":
            yield ("faults", i), ("faults stop and restart brokers that orchestrate runs: use a 'local' or "
                                  "'provisioned' target, not an 'existing' cluster")
        if isinstance(fault.broker, str) and plan.inventory is not None and fault.broker not in brokers:
            yield (("faults", i, "broker"), f"no inventory host {fault.broker!r} with role 'broker'"
                   f"{did_you_mean(fault.broker, brokers)}")


def _hosts_with_role(plan: Plan, role: str) -> list[str]:
    hosts = plan.inventory.hosts if plan.inventory is not None else []
    return [h.name for h in hosts if role in h.roles]


def _topology(plan: Plan) -> Iterator[Problem]:
    kind = plan.target.kind
    if kind == "provisioned" and plan.inventory is None:
        yield ("target", "kind"), "target kind 'provisioned' needs an 'inventory'"
    if kind == "provisioned" and plan.provision is None:
        yield ("target", "kind"), "target kind 'provisioned' needs a 'provision' section"
    if kind != "provisioned" and plan.provision is not None:
        yield ("provision",), f"'provision' is only used with target kind 'provisioned', not {kind!r}"
    if kind == "existing" and plan.monitors.jmx.enabled:
        yield ("monitors", "jmx", "enabled"), ("the brokers' JMX is read from brokers this tool starts "
                                               "(target kind 'local' or 'provisioned'), not an 'existing' cluster")
    brokers = _hosts_with_role(plan, "broker")
    if kind == "provisioned" and plan.inventory is not None and not brokers:
        yield ("inventory", "hosts"), "the inventory names no host with role 'broker'"
    if kind == "provisioned" and plan.provision is not None and plan.provision.mode == "separate" \
            and plan.inventory is not None and not _hosts_with_role(plan, "controller"):
        yield ("provision", "mode"), "mode 'separate' needs an inventory host with role 'controller'"
    for i, topic in enumerate(plan.topics):
        if kind == "local" and topic.replication_factor > 1:
            yield (("topics", i, "replication_factor"), f"replication_factor {topic.replication_factor} needs "
                   "several brokers, and the local target runs one: use 1, or a provisioned target")
        elif kind == "provisioned" and brokers and topic.replication_factor > len(brokers):
            yield (("topics", i, "replication_factor"), f"replication_factor {topic.replication_factor} is more "
                   f"than the {len(brokers)} broker host(s) in the inventory")
    if plan.inventory is not None:
        yield from _host_clashes(plan.inventory.hosts)


def _host_clashes(hosts: list) -> Iterator[Problem]:
    """Two hosts on one address must not share a port, a node id or a data directory."""
    seen: dict[tuple, str] = {}
    for i, host in enumerate(hosts):
        if not {"broker", "controller"} & set(host.roles):
            continue  # agents run no Kafka listener
        claims = [("kafka_port", (host.address, "port", host.kafka_port)),
                  ("controller_port", (host.address, "port", host.controller_port)),
                  ("node_id", ("node_id", host.node_id)),
                  ("data_dir", (host.address, "data_dir", host.data_dir))]
        for key, claim in claims:
            if claim[-1] is None:
                continue
            if claim in seen:
                yield ("inventory", "hosts", i, key), f"{key} {claim[-1]} is already used by host {seen[claim]!r}"
            seen.setdefault(claim, host.name)


def _agents(plan: Plan) -> Iterator[Problem]:
    agents = _hosts_with_role(plan, "agent")
    for i, workload in enumerate(plan.workloads):
        if workload.agents and plan.inventory is None:
            yield ("workloads", i, "agents"), "agents name inventory hosts, and the plan has no 'inventory'"
            continue
        for j, agent in enumerate(workload.agents):
            if agent not in agents:
                yield (("workloads", i, "agents", j), f"no inventory host {agent!r} with role 'agent'"
                       f"{did_you_mean(agent, agents)}")


# metrics the native clients report every second, which is what a probe is judged on while the
# search runs: not the end-of-run sequence checks, the monitors or JMeter
_LIVE_METRICS = ("produce.", "publish_latency.", "publish_delay.", "corrected_latency.", "e2e_latency.",
                 "consume.rate", "consume.throughput_mb", "consume.errors", "consume.error_rate",
                 "consume.position_lag", "consume.lag_growth")
MIN_PERCENTILE_SAMPLES = 10  # a percentile needs this many samples beyond it, e.g. 1,000 for a p99
_PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def _searches(plan: Plan) -> Iterator[Problem]:
    for i, phase in enumerate(plan.phases):
        if phase.kind != "search":
            continue
        yield from _last_phase(plan, i, "a search must be the last phase: it ends when it has its answer")
        yield from _search_slos(plan, i, phase)
        yield from _search_windows(i, phase)
        yield from _controlled_producer(plan, i)


def _last_phase(plan: Plan, i: int, why: str) -> Iterator[Problem]:
    if i != len(plan.phases) - 1:
        yield ("phases", i, "kind"), f"{why}, so nothing can be scheduled after it"


def _drains(plan: Plan) -> Iterator[Problem]:
    for i, phase in enumerate(plan.phases):
        if phase.kind != "drain":
            continue
        yield from _last_phase(plan, i, "a drain must be the last phase: it ends when the backlog is drained")
        yield from _controlled_producer(plan, i)
        if not any(w.kind == "consumer" for w in plan.workloads):
            yield ("phases", i, "kind"), (f"drain {phase.name!r} measures how fast consumers read the backlog, and "
                                          "the plan has no consumer workload")
        for k, w in enumerate(plan.workloads):
            if w.kind == "consumer" and w.start == "latest":
                # a held consumer resolves 'latest' when it starts fetching: after the backlog
                yield (("workloads", k, "start"), f"drain {phase.name!r}: consumer {w.name!r} would start at the "
                       "log end once released, after the backlog: use start: earliest")
        producer = next((w for w in plan.workloads if w.kind == "producer"), None)
        if phase.backlog is not None and producer is not None and producer.message.payload_file is not None:
            yield (("phases", i, "backlog"), f"workload {producer.name!r} sends lines of a payload file, whose "
                   "sizes are known only when sent: give the backlog as backlog_messages")


def _consumers(plan: Plan) -> Iterator[Problem]:
    for i, workload in enumerate(plan.workloads):
        if getattr(workload, "processing", None) is not None and workload.engine != "native":
            yield ("workloads", i, "processing"), "a processing cost is modelled by the native consumer only"
    for i, slo in enumerate(plan.slos):
        for key in ("sustained", "abort"):
            if slo.metric == "consume.lag_growth" and getattr(slo, key):
                yield (("slos", i, key), f"consume.lag_growth is one slope over the whole window, not a value "
                       f"per second: remove '{key}'")


def _search_slos(plan: Plan, i: int, phase) -> Iterator[Problem]:
    slos = {s.name: (k, s) for k, s in enumerate(plan.slos)}
    if not phase.slos:
        yield ("phases", i, "slos"), (f"search {phase.name!r} names no SLO to search on: list the names of the SLOs "
                                      "each probe must hold under 'slos'")
    for j, name in enumerate(phase.slos):
        if name not in slos:
            yield ("phases", i, "slos", j), f"no SLO named {name!r}{did_you_mean(name, slos)}"
            continue
        k, slo = slos[name]
        if not slo.metric.startswith(_LIVE_METRICS):
            yield (("phases", i, "slos", j), f"SLO {name!r} ({slo.metric}) is known only after the run; a search "
                   "judges each probe as it ends, on what the native clients report every second: produce.*, "
                   "consume.rate/throughput_mb/errors/error_rate/position_lag/lag_growth and the latencies")
        if slo.abort:
            yield (("slos", k, "abort"), f"search {phase.name!r} searches on SLO {name!r}: probes above the capacity "
                   "break it by design, so it cannot abort the run")
        if slo.phase is not None and slo.phase != phase.name:
            yield (("slos", k, "phase"), f"search {phase.name!r} searches on SLO {name!r}, which is judged only in "
                   f"phase {slo.phase!r}: remove 'phase' or name {phase.name!r}")
        if slo.sustained is not None and slo.sustained > phase.measure:
            yield (("slos", k, "sustained"), f"sustained {format_duration(slo.sustained)} is longer than the "
                   f"{format_duration(phase.measure)} measure window of search {phase.name!r}")
        stat = slo.metric.rpartition(".")[2]
        if stat in _PERCENTILES and phase.start_rate != "max":
            needed = MIN_PERCENTILE_SAMPLES * 100.0 / (100.0 - _PERCENTILES[stat])
            held = phase.start_rate * phase.measure
            if held < needed:
                yield (("phases", i, "measure"), f"at {phase.start_rate:g} msg/s a {format_duration(phase.measure)} "
                       f"measure window holds {held:,.0f} messages, too few for the {stat} of SLO {name!r} "
                       f"(at least {needed:,.0f}): raise start_rate or measure")


def _search_windows(i: int, phase) -> Iterator[Problem]:
    if phase.start_rate != "max" and phase.max_rate != "max" and phase.max_rate <= phase.start_rate:
        yield ("phases", i, "max_rate"), f"max_rate ({phase.max_rate:g}/s) must be above start_rate ({phase.start_rate:g}/s)"
    # a rate counted over M whole seconds is known to 1 part in M: a second at either edge of the
    # window may still carry acks of the previous probe's rate
    finest = 1.0 / max(1, int(phase.measure))
    if phase.resolution < finest:
        yield (("phases", i, "resolution"), f"resolution {phase.resolution * 100:g}% is finer than a "
               f"{format_duration(phase.measure)} measure window can tell rates apart (1 part in "
               f"{max(1, int(phase.measure))}): use a resolution of at least {finest * 100:.3g}% or a measure window of "
               f"at least {format_duration(float(-(-1 // phase.resolution)))}")
    if phase.confirm < phase.measure:
        yield (("phases", i, "confirm"), f"confirm ({format_duration(phase.confirm)}) is shorter than measure "
               f"({format_duration(phase.measure)}): the confirmation is the longest look at the answer")


_CONTROL = {"search": ("a search sets the rate of one producer workload", "each probe's rate and its end"),
            "drain": ("a drain builds its backlog with one producer workload", "when to start and when the drain ends")}


def _controlled_producer(plan: Plan, i: int) -> Iterator[Problem]:
    """A search or a drain steers the runners through a file on this machine as it goes."""
    kind = plan.phases[i].kind
    one_producer, told = _CONTROL[kind]
    producers = [(k, w) for k, w in enumerate(plan.workloads) if w.kind == "producer"]
    if len(producers) != 1:
        names = ", ".join(w.name for _, w in producers) or "none"
        yield ("phases", i, "kind"), f"{one_producer}, and the plan has {len(producers)} ({names})"
        return
    for j, other in enumerate(plan.workloads):
        if other.engine != "native":
            yield (("workloads", j, "engine"), f"a {kind} tells the runners {told} as it goes, which only the native "
                   f"engine can follow: workload {other.name!r} uses {other.engine}")
        elif other.agents:
            yield (("workloads", j, "agents"), f"a {kind} tells the runners {told} through a file on this machine: "
                   f"run workload {other.name!r} here (remove 'agents') and raise 'instances' for more load")
    k, workload = producers[0]
    if workload.max_messages is not None:
        yield (("workloads", k, "max_messages"), f"max_messages would stop workload {workload.name!r} in the middle "
               f"of the {kind}: remove it")
