"""A native-style producer or consumer workload (``engine: jmeter``) as a JMeter test plan.

The JMX holds structure only: a thread group with a JSR223 Groovy sampler (kafka-clients) and a
pre-processor that builds one client per thread. A producer's pre-processor compiles a statically
typed sender (templates/kafka-producer-setup.groovy.j2) that paces all threads together on the
plan's phase schedule by intended send time (stock JMeter has no timer that follows a rate ramp, nor
one that holds tens of thousands of samples per second); each sample is a batch of sends of up to
``BATCH_MS`` whose acknowledged messages are its sub-samples, which the plan's own listener writes
to ``orchestrate.messages_jtl`` (Taurus's kpi.jtl keeps one line per batch, so bzt reads little).
A consumer's JSR223 timer waits for the start and ends its schedule. The clock starts at the run's
common start time (``orchestrate.start_at``, or read from ``orchestrate.start_file`` when JMeter was
started ahead of time) or, without one, when the first client is ready. The thread group's own
duration is only a safety bound that adds ``STARTUP_ALLOWANCE_S`` for JVM, Groovy and client
start-up and the wait for the start.
Every value the scripts need is a JMeter property (``KafkaJmx.properties``), which keeps the scripts
free of ``${}`` so Groovy compiles each one once (``cacheKey``), and keeps secrets out of every file:
a secret is passed as the NAME of the environment variable that holds it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrator.plan.models import (ConsumerWorkload, Plan, ProducerWorkload, RampPhase, Security, StepsPhase,
                                      UniformSize, NormalSize)
from orchestrator.render.runner import CONSUMER_DEFAULTS
from orchestrator.rundir import batch_label
from orchestrator.templating import render_template

LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}
UNTHROTTLED = -1.0
STARTUP_ALLOWANCE_S = 600
# sends a JMeter producer thread keeps outstanding before it waits for acknowledgements
IN_FLIGHT_PER_THREAD = 5000
# how long one producer sample (a batch of sends) lasts: ~10 samples per thread and second
BATCH_MS = 100


@dataclass(frozen=True)
class KafkaJmx:
    jmx: str
    properties: dict[str, str]  # JMeter properties the scripts read; never a secret value
    per_message: bool = False  # a producer: its own listener writes every message (orchestrate.messages_jtl)


def render_kafka_jmx(plan: Plan, workload: ProducerWorkload | ConsumerWorkload, bootstrap_servers: str,
                     security: Security, servers: int = 1) -> KafkaJmx:
    """``servers`` > 1: JMeter's distributed mode, where every server runs the whole thread group, so
    each gets its share of the threads and of the rate."""
    producer = isinstance(workload, ProducerWorkload)
    role = "producer" if producer else "consumer"
    duration = plan.total_duration if producer else plan.total_duration + workload.drain
    threads = math.ceil(workload.instances / servers)
    jmx = render_template(
        "kafka-workload.jmx.j2",
        title=f"{plan.metadata.name}: {workload.name}",
        workload=workload.name,
        label=workload.name,
        sampler_label=batch_label(workload.name) if producer else workload.name,
        threads=threads,
        loops=-1,
        duration_s=math.ceil(duration) + STARTUP_ALLOWANCE_S,
        setup_script=render_template(f"kafka-{role}-setup.groovy.j2"),
        sampler_script=render_template("kafka-producer-send.groovy.j2" if producer else "kafka-consumer-poll.groovy.j2"),
        timer_script=None if producer else render_template("kafka-consumer-clock.groovy.j2"),
        messages_jtl="${__P(orchestrate.messages_jtl)}" if producer else None,
    )
    props = {"kafka.bootstrap.servers": bootstrap_servers, "orchestrate.topic": workload.topic}
    props |= security_properties(security)
    props |= producer_properties(plan, workload) if producer else consumer_properties(plan, workload)
    if producer:
        # a thread's share of max_messages is counted by its sender, not as loops (a loop is a batch)
        props |= {"orchestrate.schedule": schedule(plan, workload, servers), "orchestrate.label": workload.name,
                  "orchestrate.batch_ms": str(BATCH_MS), "orchestrate.in_flight": str(IN_FLIGHT_PER_THREAD),
                  "orchestrate.max_per_thread": str(math.ceil(workload.max_messages / (threads * servers))
                                                    if workload.max_messages else -1)}
    props |= {f"kafka.{k}": _text(v) for k, v in workload.properties.items()}
    return KafkaJmx(jmx=jmx, properties=props, per_message=producer)


def security_properties(security: Security) -> dict[str, str]:
    props = {"kafka.security.protocol": security.protocol}
    if security.sasl:
        props |= {"kafka.sasl.mechanism": security.sasl.mechanism,
                  "orchestrate.sasl.username": security.sasl.username,
                  "orchestrate.sasl.login_module": LOGIN_MODULES[security.sasl.mechanism],
                  "orchestrate.sasl.password_env": security.sasl.password_env}
    ssl = security.ssl
    if ssl is None:
        return props
    if ssl.ca_file:
        props |= {"kafka.ssl.truststore.type": "PEM", "kafka.ssl.truststore.location": ssl.ca_file}
    if ssl.truststore_file:
        props |= {"kafka.ssl.truststore.location": ssl.truststore_file, "kafka.ssl.truststore.type": _store_type(ssl.truststore_file)}
    if ssl.cert_file and ssl.key_file:
        props |= {"orchestrate.ssl.cert_file": ssl.cert_file, "orchestrate.ssl.key_file": ssl.key_file}
    if ssl.keystore_file:
        props |= {"kafka.ssl.keystore.location": ssl.keystore_file, "kafka.ssl.keystore.type": _store_type(ssl.keystore_file)}
    if not ssl.verify_hostname:
        props["kafka.ssl.endpoint.identification.algorithm"] = ""
    secrets = {"ssl.key.password": ssl.key_password_env, "ssl.keystore.password": ssl.keystore_password_env,
               "ssl.truststore.password": ssl.truststore_password_env}
    props |= {f"orchestrate.secret.{k}": env for k, env in secrets.items() if env}
    return props


def producer_properties(plan: Plan, workload: ProducerWorkload) -> dict[str, str]:
    props = {"kafka.acks": workload.acks, "kafka.compression.type": workload.compression,
             "kafka.linger.ms": str(round(workload.linger * 1000)), "kafka.batch.size": str(workload.batch_size),
             "kafka.enable.idempotence": _text(workload.idempotence)}
    props |= {f"orchestrate.keys.{k}": _text(v) for k, v in workload.keys.model_dump().items()}
    size = workload.message.size_distribution()
    if size is None:
        return props | {"orchestrate.message.distribution": "file", "orchestrate.message.max": "0",
                        "orchestrate.message.payload_file": workload.message.payload_file or ""}
    if isinstance(size, UniformSize):
        return props | {"orchestrate.message.distribution": "uniform", "orchestrate.message.min": str(size.min),
                        "orchestrate.message.max": str(size.max)}
    if isinstance(size, NormalSize):
        return props | {"orchestrate.message.distribution": "normal", "orchestrate.message.min": str(size.min),
                        "orchestrate.message.max": str(size.max), "orchestrate.message.mean": str(size.mean),
                        "orchestrate.message.stddev": str(size.stddev)}
    return props | {"orchestrate.message.distribution": "fixed", "orchestrate.message.max": str(size.size)}


def consumer_properties(plan: Plan, workload: ConsumerWorkload) -> dict[str, str]:
    props = {f"kafka.{k}": v for k, v in CONSUMER_DEFAULTS.items()}
    return props | {"orchestrate.duration_s": f"{plan.total_duration:.10g}", "orchestrate.group": workload.group_id,
                    "orchestrate.start": workload.start, "orchestrate.drain_ms": str(round(workload.drain * 1000))}


def schedule(plan: Plan, workload: ProducerWorkload, servers: int = 1) -> str:
    """``duration:from:to`` per phase (steps expand into one entry per step), msgs/s over all threads
    of one of ``servers`` JMeter servers."""
    def rate(value: float | str | None) -> float:
        value = workload.rate if value is None else value
        return UNTHROTTLED if value == "max" else float(value) / servers

    entries: list[tuple[float, float, float]] = []
    for phase in plan.phases:
        if isinstance(phase, RampPhase):
            entries.append((phase.duration, rate(phase.rate_from), rate(phase.rate_to)))
        elif isinstance(phase, StepsPhase):
            entries += [(phase.step_duration, rate(r), rate(r)) for r in phase.rates]
        else:
            entries.append((phase.duration, rate(phase.rate), rate(phase.rate)))
    return ";".join(":".join(f"{x:.10g}" for x in entry) for entry in entries)


def _store_type(path: str) -> str:
    return "PKCS12" if path.lower().endswith((".p12", ".pfx")) else "JKS"


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
