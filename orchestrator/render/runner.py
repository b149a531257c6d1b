"""Plan ▶ native runner specs: one self-contained spec per instance of a native workload.

A workload's rate (and each phase's) is the total over its instances; every instance gets an equal
share, in messages per second. Phases become the runner's schedule: ``steps`` expands into
consecutive steady segments that keep the phase's name, a phase without a rate takes the workload's,
and ``max`` becomes an unthrottled segment. A ``search`` starts at its ``start_rate`` for as long as
its bound, and every runner of a plan with one follows the run's search control file. A ``drain``
is unthrottled for as long as its timeout, each producer instance capped at its share of the
backlog (a backlog in bytes becomes messages of the workload's mean size); its runners follow the
control file too. Consumers follow the same schedule, which only labels their intervals (and holds
them off in a drain until released).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace
from pathlib import Path

from orchestrator.cluster import Cluster
from orchestrator.plan.models import (ConsumerWorkload, DrainPhase, FixedSize, Phase, Plan, ProducerWorkload, RampPhase,
                                      SearchPhase, StepsPhase, UniformSize)
from orchestrator.rundir import RunDir
from orchestrator.runner.sequence import PREFIX_BYTES
from orchestrator.runner.spec import KeySpec, MessageSpec, PhaseSpec, ProcessingSpec, RunnerSpec

# a consumer that rejoins after an unclean exit waits out the old member's session: keep it short
CONSUMER_DEFAULTS = {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1500"}
DRAIN_CAP_FACTOR, DRAIN_CAP_MIN_S = 6.0, 60.0
STOP_MARGIN_S = 15.0  # beyond a runner's own bound after SIGTERM: writing its end record and exiting


def runner_specs(plan: Plan, workload: ProducerWorkload | ConsumerWorkload, cluster: Cluster, run: RunDir,
                 start_at: float) -> list[RunnerSpec]:
    return [_spec(plan, workload, cluster, run, start_at, i) for i in range(workload.instances)]


def write_runner_specs(plan: Plan, workload: ProducerWorkload | ConsumerWorkload, cluster: Cluster, run: RunDir,
                       start_at: float) -> list[RunnerSpec]:
    """Every instance's spec, written where its runner reads it (local) or it is copied from (agents)."""
    specs = runner_specs(plan, workload, cluster, run, start_at)
    for spec in specs:
        path = spec_path(run, workload.name, spec.instance)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(spec.to_json())
    return specs


def spec_path(run: RunDir, workload: str, instance: int) -> Path:
    return run.native_spec(workload, instance)


def output_path(run: RunDir, workload: str, instance: int) -> Path:
    return run.native_records(workload, instance)


def _spec(plan: Plan, workload: ProducerWorkload | ConsumerWorkload, cluster: Cluster, run: RunDir,
          start_at: float, instance: int) -> RunnerSpec:
    producer = isinstance(workload, ProducerWorkload)
    common = dict(
        workload=workload.name, instance=instance, role="producer" if producer else "consumer",
        host=workload.agents[instance % len(workload.agents)] if workload.agents else "localhost",
        bootstrap_servers=cluster.bootstrap_servers, topic=workload.topic,
        output=str(output_path(run, workload.name, instance).resolve()), start_at=start_at,
        secret_env=dict(cluster.secret_env), seed=zlib.crc32(f"{workload.name}/{instance}".encode()),
        control=str(run.control.resolve()) if any(isinstance(p, (SearchPhase, DrainPhase)) for p in plan.phases)
        else None,
    )
    if producer:
        share = 1.0 / workload.instances
        backlog = _backlog_share(plan, workload, instance)
        return RunnerSpec(
            **common, schedule=[replace(p, messages=backlog) if p.kind == "drain" else p
                                for p in schedule(plan.phases, workload.rate, share)],
            client_config={**cluster.client_config, **producer_config(workload)},
            message=message_spec(workload), keys=KeySpec(**workload.keys.model_dump()),
            max_messages=_share_of(workload.max_messages, workload.instances, instance),
            await_groups=_consumer_groups(plan, workload.topic),
        )
    return RunnerSpec(
        **common, schedule=[replace(p, rate_from=None, rate_to=None) for p in schedule(plan.phases, "max", 1.0)],
        client_config={**cluster.client_config, **CONSUMER_DEFAULTS, **_text(workload.properties)},
        group=workload.group_id, start=workload.start,
        drain_s=workload.drain, drain_max_s=max(DRAIN_CAP_MIN_S, DRAIN_CAP_FACTOR * workload.drain),
        processing=_processing(workload),
    )


def _consumer_groups(plan: Plan, topic: str) -> dict[str, int]:
    """The native consumer groups reading ``topic``, with their instances: what its producers wait for."""
    groups: dict[str, int] = {}
    for c in plan.workloads:
        if isinstance(c, ConsumerWorkload) and c.engine == "native" and c.topic == topic:
            groups[c.group_id] = groups.get(c.group_id, 0) + c.instances
    return dict(sorted(groups.items()))


def stop_timeout_s(specs: list[RunnerSpec]) -> float:
    """How long runners get after SIGTERM before SIGKILL: a producer flushes for at most its flush
    timeout, a consumer drains for at most its drain bound."""
    bounds = [s.flush_timeout_s if s.role == "producer" else s.drain_max_s for s in specs]
    return max(bounds, default=0.0) + STOP_MARGIN_S


def _processing(workload: ConsumerWorkload) -> ProcessingSpec | None:
    cost = workload.processing
    if cost is None:
        return None
    return ProcessingSpec(distribution=cost.distribution, delay_s=cost.delay or 0.0, min_s=cost.min or 0.0,
                          max_s=cost.max or 0.0, mean_s=cost.mean or 0.0, stddev_s=cost.stddev or 0.0)


def mean_message_bytes(workload: ProducerWorkload) -> float:
    """The mean size of a value as sent (never below the sequence prefix); generated sizes only."""
    size = workload.message.size_distribution()
    if size is None:
        raise ValueError(f"workload {workload.name}: the sizes of a payload file's lines are known only when sent")
    if isinstance(size, FixedSize):
        mean = float(size.size)
    elif isinstance(size, UniformSize):
        mean = (size.min + size.max) / 2.0
    else:
        mean = float(size.mean)
    return max(float(PREFIX_BYTES), mean)


def backlog_messages(phase: DrainPhase, workload: ProducerWorkload) -> int:
    """The drain's backlog in messages: as given, or its bytes in messages of the mean size."""
    if phase.backlog_messages is not None:
        return phase.backlog_messages
    return max(1, math.ceil(phase.backlog / mean_message_bytes(workload)))


def _backlog_share(plan: Plan, workload: ProducerWorkload, instance: int) -> int | None:
    drain = next((p for p in plan.phases if isinstance(p, DrainPhase)), None)
    if drain is None:
        return None
    return _share_of(backlog_messages(drain, workload), workload.instances, instance)


def schedule(phases: list[Phase], workload_rate: float | str, share: float) -> list[PhaseSpec]:
    out = []
    for phase in phases:
        if isinstance(phase, StepsPhase):
            out.extend(_segment(phase.name, "steps", phase.step_duration, r, r, share) for r in phase.rates)
        elif isinstance(phase, RampPhase):
            out.append(_segment(phase.name, "ramp", phase.duration, phase.rate_from, phase.rate_to, share))
        elif isinstance(phase, SearchPhase):
            out.append(_segment(phase.name, "search", phase.duration, phase.start_rate, phase.start_rate, share))
        elif isinstance(phase, DrainPhase):
            out.append(_segment(phase.name, "drain", phase.duration, "max", "max", share))
        else:
            rate = workload_rate if phase.rate is None else phase.rate
            out.append(_segment(phase.name, phase.kind, phase.duration, rate, rate, share))
    return out


def _segment(name: str, kind: str, duration: float, rate_from, rate_to, share: float) -> PhaseSpec:
    if rate_from == "max" or rate_to == "max":
        return PhaseSpec(name, kind, duration, None, None)
    return PhaseSpec(name, kind, duration, rate_from * share, rate_to * share)


def producer_config(workload: ProducerWorkload) -> dict[str, str]:
    """The plan's producer settings as librdkafka properties; ``properties`` override them."""
    return {
        "acks": workload.acks,
        "compression.type": workload.compression,
        "linger.ms": f"{workload.linger * 1000:g}",
        "batch.size": str(workload.batch_size),
        "enable.idempotence": "true" if workload.idempotence else "false",
        **_text(workload.properties),
    }


def message_spec(workload: ProducerWorkload) -> MessageSpec:
    if workload.message.payload_file is not None:
        return MessageSpec(payload_file=str(workload.message.payload_file))
    size = workload.message.size_distribution()
    return MessageSpec(**size.model_dump())


def _share_of(total: int | None, parts: int, index: int) -> int | None:
    if total is None:
        return None
    return total // parts + (1 if index < total % parts else 0)


def _text(properties: dict[str, str | int | float | bool]) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in properties.items()}
