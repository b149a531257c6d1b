"""The plan language: frozen Pydantic models, validated once when a plan is loaded.

Every model forbids unknown keys, so a typo is an error (with a suggestion) rather than a silently
ignored setting. Field descriptions feed ``orchestrate schema`` and the reference in docs/plan.md.
Checks that span several fields raise ``FieldProblems`` so each problem points at its own key.

Local file paths (payload files, scripts, TLS files, keys, inventories) are resolved against the
plan file's directory when the plan is validated with the ``PLAN_DIR`` context (the loader does
this) and must exist; a Plan built in code keeps them as given.
"""

from __future__ import annotations

import math
import os
import re
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from orchestrator.plan.checks import FieldProblems, plan_problems
from orchestrator.plan.faults import ACTIONS, param_problems
from orchestrator.plan.sources import CATALOGUE
from orchestrator.plan.units import Duration, Fraction, Rate, Size

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
EnvVar = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name of an environment variable holding the secret")]
PLAN_DIR = "plan_dir"  # validation-context key: the directory relative file paths are resolved against


def _plan_relative(value: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get(PLAN_DIR)
    if base is None:
        return value
    path = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    if not os.path.exists(path):
        raise ValueError(f"no such file: {path}")
    return path


def _plugin_ref(value: str, info: ValidationInfo) -> str:
    """A plugin is a jar path (resolved like any plan file) or Maven coordinates group:artifact:version."""
    if value.endswith(".jar") or "/" in value:
        return _plan_relative(value, info)
    if value.count(":") not in (2, 3):
        raise ValueError(f"expected a .jar path or Maven coordinates group:artifact:version, got {value!r}")
    return value


LocalFile = Annotated[str, AfterValidator(_plan_relative)]
PluginRef = Annotated[str, AfterValidator(_plugin_ref)]
Scalar = str | int | float | bool


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True, defer_build=True)


def _tag(key: str, default: str | None):
    """A discriminator that reads ``key`` from a mapping (``default`` when absent) or a model."""

    def tag(data: object) -> str | None:
        if isinstance(data, dict):
            return data.get(key, default)
        return getattr(data, key, None)

    return Discriminator(tag)


# --------------------------------------------------------------------------- metadata


class Metadata(Model):
    """What the plan is called and what it answers."""

    name: Name = Field(description="Plan name; used in the run directory name and the report title")
    description: str = Field("", description="What this plan answers, in a sentence or two")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels copied into summary.json")


# --------------------------------------------------------------------------- target and security


class SaslSettings(Model):
    """SASL credentials; the password only as the name of an environment variable."""

    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field("PLAIN", description="SASL mechanism")
    username: str = Field(description="SASL user name")
    password_env: EnvVar = Field(description="Environment variable that holds the SASL password")


class SslSettings(Model):
    """TLS files; passwords only as names of environment variables."""

    ca_file: LocalFile | None = Field(None, description="PEM CA bundle used to verify brokers")
    cert_file: LocalFile | None = Field(None, description="PEM client certificate (mutual TLS)")
    key_file: LocalFile | None = Field(None, description="PEM client key (mutual TLS)")
    key_password_env: EnvVar | None = Field(None, description="Environment variable that holds the client key's password")
    keystore_file: LocalFile | None = Field(None, description="PKCS12/JKS keystore (JMeter engine)")
    keystore_password_env: EnvVar | None = Field(None, description="Environment variable that holds the keystore password")
    truststore_file: LocalFile | None = Field(None, description="PKCS12/JKS truststore (JMeter engine)")
    truststore_password_env: EnvVar | None = Field(None, description="Environment variable that holds the truststore password")
    verify_hostname: bool = Field(True, description="Check that the broker certificate matches its host name")


class Security(Model):
    """How clients authenticate to and encrypt traffic with the brokers."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field("PLAINTEXT", description="security.protocol")
    sasl: SaslSettings | None = Field(None, description="Required with SASL_PLAINTEXT and SASL_SSL")
    ssl: SslSettings | None = Field(None, description="TLS files for SSL and SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> "Security":
        if self.protocol.startswith("SASL") and self.sasl is None:
            raise FieldProblems([(("sasl",), f"protocol {self.protocol} needs a 'sasl' section")])
        if not self.protocol.startswith("SASL") and self.sasl is not None:
            raise FieldProblems([(("sasl",), f"'sasl' is set but protocol is {self.protocol}")])
        return self


class LocalTarget(Model):
    """An embedded single-node KRaft broker that apply starts on 127.0.0.1 and stops at the end."""

    kind: Literal["local"] = Field("local", description="local (the default), existing or provisioned")
    kafka_version: str = Field("4.1.1", description="Apache Kafka version resolved from Maven Central (or KAFKA_HOME)")
    heap: Size = Field("1GiB", description="Broker JVM heap")
    properties: dict[str, Scalar] = Field(default_factory=dict, description="Extra server.properties")


class ExistingTarget(Model):
    """A cluster that is already running, reached through its bootstrap servers."""

    kind: Literal["existing"] = Field(description="local (the default), existing or provisioned")
    bootstrap_servers: list[Annotated[str, Field(pattern=r"^\S+:\d{1,5}$")]] = Field(min_length=1, description="host:port pairs")
    security: Security = Field(default_factory=Security, description="Client security settings")


class ProvisionedTarget(Model):
    """A cluster that `orchestrate provision` (or apply) installs on the plan's inventory."""

    kind: Literal["provisioned"] = Field(description="local (the default), existing or provisioned")
    security: Security = Field(default_factory=Security, description="Client security settings")


Target = Annotated[
    Union[Annotated[LocalTarget, Tag("local")], Annotated[ExistingTarget, Tag("existing")],
          Annotated[ProvisionedTarget, Tag("provisioned")]],
    _tag("kind", "local"),
]


# --------------------------------------------------------------------------- topics

CleanupPolicy = Literal["delete", "compact", "delete,compact", "compact,delete"]


class Topic(Model):
    """A topic the run uses: created when missing, checked (or recreated) when present."""

    name: Name = Field(description="Topic name")
    partitions: int = Field(1, strict=True, ge=1, le=100_000, description="Number of partitions")
    replication_factor: int = Field(1, strict=True, ge=1, le=32, description="Replicas per partition (1 on the local target)")
    retention: Duration | None = Field(None, gt=0, description="retention.ms as a duration ('7d'); omit for the broker default")
    retention_bytes: Size | None = Field(None, description="retention.bytes per partition ('1GiB')")
    min_insync_replicas: int | None = Field(None, strict=True, ge=1, description="min.insync.replicas; at most replication_factor")
    cleanup_policy: CleanupPolicy | None = Field(None, description="cleanup.policy")
    configs: dict[str, Scalar] = Field(default_factory=dict, description="Any other topic configs, verbatim (Kafka names)")
    if_exists: Literal["verify", "recreate", "use"] = Field(
        "verify", description="verify: fail if partitions/configs differ; recreate: delete and create; use: take as is"
    )
    delete_after: bool = Field(False, description="Delete the topic when the run ends")

    @model_validator(mode="after")
    def _isr(self) -> "Topic":
        if self.min_insync_replicas is not None and self.min_insync_replicas > self.replication_factor:
            raise FieldProblems([(("min_insync_replicas",), f"min_insync_replicas ({self.min_insync_replicas}) "
                                  f"exceeds replication_factor ({self.replication_factor})")])
        return self

    def kafka_configs(self) -> dict[str, str]:
        """The effective topic configs as Kafka names them."""
        out = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.configs.items()}
        if self.retention is not None:
            out["retention.ms"] = str(int(self.retention * 1000))
        if self.retention_bytes is not None:
            out["retention.bytes"] = str(self.retention_bytes)
        if self.min_insync_replicas is not None:
            out["min.insync.replicas"] = str(self.min_insync_replicas)
        if self.cleanup_policy is not None:
            out["cleanup.policy"] = self.cleanup_policy
        return out


# --------------------------------------------------------------------------- messages and keys

MAX_MESSAGE = 64 * 1024**2


class FixedSize(Model):
    """Every message has the same size."""

    distribution: Literal["fixed"] = Field("fixed", description="fixed (the default), uniform or normal")
    size: Size = Field(le=MAX_MESSAGE, description="Message size")


class UniformSize(Model):
    """Sizes drawn uniformly between min and max."""

    distribution: Literal["uniform"] = Field(description="fixed (the default), uniform or normal")
    min: Size = Field(description="Smallest message")
    max: Size = Field(le=MAX_MESSAGE, description="Largest message")

    @model_validator(mode="after")
    def _order(self) -> "UniformSize":
        if self.min > self.max:
            raise FieldProblems([(("min",), f"min ({self.min}) is larger than max ({self.max})")])
        return self


class NormalSize(Model):
    """Sizes drawn from a normal distribution, clipped to [min, max]."""

    distribution: Literal["normal"] = Field(description="fixed (the default), uniform or normal")
    mean: Size = Field(le=MAX_MESSAGE, description="Mean size")
    stddev: Size = Field(description="Standard deviation")
    min: Size = Field(0, description="Sizes below are clipped to this")
    max: Size = Field(MAX_MESSAGE, le=MAX_MESSAGE, description="Sizes above are clipped to this")

    @model_validator(mode="after")
    def _order(self) -> "NormalSize":
        if not self.min <= self.mean <= self.max:
            raise FieldProblems([(("mean",), f"mean ({self.mean}) is not between min ({self.min}) and max ({self.max})")])
        return self


def _size_kind(data: object) -> str | None:
    if isinstance(data, dict):
        return data.get("distribution", "fixed")
    return getattr(data, "distribution", "bytes")


MessageSize = Annotated[
    Union[Annotated[Size, Field(le=MAX_MESSAGE), Tag("bytes")], Annotated[FixedSize, Tag("fixed")],
          Annotated[UniformSize, Tag("uniform")], Annotated[NormalSize, Tag("normal")]],
    Discriminator(_size_kind),
]


class Message(Model):
    """What each message carries: generated bytes of a size, or lines of a payload file."""

    size: MessageSize | None = Field(
        None, description="A fixed size ('1KiB') or a distribution {distribution: uniform|normal, ...}"
    )
    payload_file: LocalFile | None = Field(None, description="File whose lines are sent as payloads, in turn (relative to the plan)")

    @model_validator(mode="after")
    def _one_source(self) -> "Message":
        if self.size is not None and self.payload_file is not None:
            raise FieldProblems([(("payload_file",), "give either 'size' or 'payload_file', not both")])
        if self.size is None and self.payload_file is None:
            raise FieldProblems([((), "give one of 'size' or 'payload_file'")])
        return self

    def size_distribution(self) -> FixedSize | UniformSize | NormalSize | None:
        return FixedSize(size=self.size) if isinstance(self.size, int) else self.size


class Keys(Model):
    """How message keys are chosen (keys decide partitions)."""

    distribution: Literal["none", "round_robin", "random", "zipf"] = Field(
        "none", description="none: null keys; round_robin, random or zipf over `cardinality` distinct keys"
    )
    cardinality: int = Field(1000, strict=True, ge=1, le=100_000_000, description="Number of distinct keys")
    skew: float = Field(1.1, gt=0, le=10, description="Zipf exponent (zipf only)")


# --------------------------------------------------------------------------- workloads

Engine = Literal["native", "jmeter"]
FaultActionName = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]  # the fault registry's names
ClientProperties = dict[str, Scalar]


class WorkloadBase(Model):
    name: Name = Field(description="Workload name; SLOs and the report refer to it")
    engine: Engine = Field("native", description="native: confluent-kafka runner; jmeter: JMeter through Taurus")
    instances: int = Field(1, strict=True, ge=1, le=1024, description="Client processes (native) or threads (jmeter)")
    agents: list[str] = Field(default_factory=list, description="Inventory agent hosts to spread instances over; empty: this machine")
    properties: ClientProperties = Field(default_factory=dict, description="Extra client properties, verbatim (librdkafka / Java names)")


class ProducerWorkload(WorkloadBase):
    """Produces messages at a rate (open model: sends are scheduled, not waited for)."""

    kind: Literal["producer"] = Field(description="producer, consumer or script")
    topic: Name = Field(description="A topic declared under 'topics'")
    rate: Rate = Field("max", description="Total rate over all instances, e.g. '5k/s', or 'max'; phases may override")
    message: Message = Field(default_factory=lambda: Message(size=1024), description="Message size or payload file (default 1KiB)")
    keys: Keys = Field(default_factory=Keys, description="Message key distribution")
    acks: Annotated[Literal["0", "1", "all"], WithJsonSchema({"enum": ["0", "1", "all", 0, 1, -1]})] = Field(
        "all", description="acks: 0, 1 or all (-1 means all)")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field("none", description="compression.type")
    linger: Duration = Field("5ms", description="linger.ms as a duration")
    batch_size: Size = Field("64KiB", description="batch.size")
    idempotence: bool = Field(False, description="enable.idempotence")
    max_messages: int | None = Field(None, strict=True, ge=1, description="Stop after this many messages (per workload)")

    @model_validator(mode="before")
    @classmethod
    def _acks_as_text(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("acks"), int) and not isinstance(data.get("acks"), bool):
            data = {**data, "acks": "all" if data["acks"] == -1 else str(data["acks"])}
        return data


class ProcessingCost(Model):
    """The time a native consumer spends on each message, as the application would: the consumer
    works through its messages one after another, so N instances with a mean cost of c handle at
    most N / c messages per second."""

    distribution: Literal["fixed", "uniform", "normal", "exponential"] = Field(
        "fixed", description="fixed: every message costs 'delay'; uniform: between 'min' and 'max'; normal: "
                             "'mean' and 'stddev', clipped at 0; exponential: 'mean'")
    delay: Duration | None = Field(None, gt=0, description="fixed: the cost of every message ('1ms', '250us')")
    min: Duration | None = Field(None, description="uniform: the smallest cost")
    max: Duration | None = Field(None, gt=0, description="uniform: the largest cost")
    mean: Duration | None = Field(None, gt=0, description="normal, exponential: the mean cost")
    stddev: Duration | None = Field(None, description="normal: the standard deviation")

    @model_validator(mode="after")
    def _fields(self) -> "ProcessingCost":
        needs = {"fixed": ("delay",), "uniform": ("min", "max"), "normal": ("mean", "stddev"), "exponential": ("mean",)}
        wanted = needs[self.distribution]
        problems = [((name,), f"{self.distribution} needs '{name}'") for name in wanted if getattr(self, name) is None]
        problems += [((name,), f"'{name}' does not apply to distribution {self.distribution}")
                     for name in ("delay", "min", "max", "mean", "stddev")
                     if name not in wanted and getattr(self, name) is not None]
        if not problems and self.distribution == "uniform" and self.min > self.max:
            problems.append((("min",), f"min ({self.min:g}s) is larger than max ({self.max:g}s)"))
        if problems:
            raise FieldProblems(problems)
        return self

    @property
    def mean_s(self) -> float:
        if self.distribution == "fixed":
            return self.delay
        if self.distribution == "uniform":
            return (self.min + self.max) / 2.0
        return self.mean


class ConsumerWorkload(WorkloadBase):
    """Consumes a topic in a consumer group and checks sequence numbers for loss and duplicates."""

    kind: Literal["consumer"] = Field(description="producer, consumer or script")
    topic: Name = Field(description="A topic declared under 'topics'")
    group: Name | None = Field(None, description="Consumer group; default: orchestrate-<workload name>")
    start: Literal["earliest", "latest"] = Field("earliest", description="auto.offset.reset for a new group")
    drain: Duration = Field("10s", description="After the last phase, keep consuming until idle this long (a native consumer stops sooner: once the producers have finished and it has read to the log end)")
    processing: ProcessingCost | None = Field(None, description="Time spent on each message after it arrives "
                                              "(native engine): a model of the application's own work")

    @property
    def group_id(self) -> str:
        return self.group or f"orchestrate-{self.name}"


class ScriptWorkload(WorkloadBase):
    """An existing JMeter test plan run unchanged under this plan (engine must be jmeter)."""

    kind: Literal["script"] = Field(description="producer, consumer or script")
    engine: Literal["jmeter"] = Field("jmeter", description="Always jmeter")
    script: LocalFile = Field(description="Path to a .jmx file, relative to the plan")
    topic: Name | None = Field(None, description="Topic the script uses; overrides its topic property")
    jmeter_properties: dict[str, Scalar] = Field(default_factory=dict, description="-J properties")
    modifications: dict[str, object] = Field(default_factory=dict, description="Taurus 'modifications' for the script")
    plugins: list[PluginRef] = Field(default_factory=list, description="Plugin jars: paths or Maven coordinates group:artifact:version")
    ramp_up: Duration | None = Field(None, description="Thread ramp-up time; default: the script's own")
    duration: Duration | None = Field(None, gt=0, description="Default: the plan's total phase duration")


Workload = Annotated[Union[ProducerWorkload, ConsumerWorkload, ScriptWorkload], Field(discriminator="kind")]


# --------------------------------------------------------------------------- phases


class PhaseBase(Model):
    name: Name = Field(description="Phase name; SLOs and the report refer to it")


class WarmupPhase(PhaseBase):
    """Load that is measured but excluded from SLO verdicts."""

    kind: Literal["warmup"] = Field(description="warmup, steady, ramp, steps, search or drain")
    duration: Duration = Field(gt=0, description="How long the phase lasts")
    rate: Rate | None = Field(None, description="Producer rate during warm-up; default: each workload's rate")


class SteadyPhase(PhaseBase):
    """Hold a constant rate."""

    kind: Literal["steady"] = Field(description="warmup, steady, ramp, steps, search or drain")
    duration: Duration = Field(gt=0, description="How long the phase lasts")
    rate: Rate | None = Field(None, description="Producer rate; default: each workload's rate")


class RampPhase(PhaseBase):
    """Change the producer rate linearly from one value to another."""

    kind: Literal["ramp"] = Field(description="warmup, steady, ramp, steps, search or drain")
    duration: Duration = Field(gt=0, description="How long the ramp lasts")
    rate_from: Rate = Field(alias="from", description="Rate at the start (a number, not 'max')")
    rate_to: Rate = Field(alias="to", description="Rate at the end (a number, not 'max')")


class StepsPhase(PhaseBase):
    """Hold each rate in turn for step_duration: a staircase to find capacity."""

    kind: Literal["steps"] = Field(description="warmup, steady, ramp, steps, search or drain")
    step_duration: Duration = Field(gt=0, description="How long each step lasts")
    rates: list[Rate] = Field(min_length=1, description="The rate of each step (numbers, not 'max')")

    @property
    def duration(self) -> float:
        return self.step_duration * len(self.rates)


# the orchestrator decides the next probe at most this long after a probe's measured window ends
# (the runners' last second settles, then they are told the next rate a second ahead): only the
# upper bound of a search's length counts it
PROBE_DECISION_S = 10.0


class SearchPhase(PhaseBase):
    """Search for the highest rate that holds the named SLOs: probe rates, growing then bisecting,
    and confirm the answer. Ends when it has the answer, so it must be the last phase."""

    kind: Literal["search"] = Field(description="warmup, steady, ramp, steps, search or drain")
    slos: list[Name] = Field(default_factory=list, description="The SLOs the search holds each probe to (names under 'slos')")
    start_rate: Rate = Field(description="Rate of the first probe (a number, not 'max')")
    max_rate: Rate = Field(description="The search never probes above this rate (a number, not 'max')")
    growth: float = Field(2.0, gt=1.0, le=10.0, description="Each probe's rate times this until a probe fails")
    resolution: Fraction = Field(0.05, description="Stop narrowing when the rate that held and the one that failed are this close ('5%')")
    settle: Duration = Field("10s", description="Start of each probe excluded from its verdict, while the new rate settles")
    measure: Duration = Field("20s", gt=0, description="Measured window of each probe, after its settle")
    confirm: Duration = Field("1m", gt=0, description="Measured window of the final probe at the answer")
    max_probes: int = Field(20, strict=True, ge=2, le=200, description="At most this many probes (the confirmation included)")

    @property
    def probe_bound(self) -> float:
        """The longest a probe can last: settle, the longer of the two windows, and the decision."""
        return self.settle + max(self.measure, self.confirm) + PROBE_DECISION_S

    @property
    def duration(self) -> float:
        """An upper bound: the search usually ends well before it."""
        return self.probe_bound * self.max_probes


class DrainPhase(PhaseBase):
    """Build a backlog, then measure how fast the consumers drain it: the plan's producer sends the
    backlog unthrottled while the consumer workloads hold off (joined, not fetching); once every
    message of it is acknowledged the consumers start, and the phase ends when they have read it
    all, or at 'timeout'. Ends when drained, so it must be the last phase."""

    kind: Literal["drain"] = Field(description="warmup, steady, ramp, steps, search or drain")
    backlog: Size | None = Field(None, gt=0, description="Backlog to build, in bytes of payload ('2GiB'); or give backlog_messages")
    backlog_messages: int | None = Field(None, strict=True, ge=1, description="Backlog to build, in messages")
    timeout: Duration = Field("10m", gt=0, description="The phase ends at this point even when the backlog is not drained")

    @model_validator(mode="after")
    def _one_size(self) -> "DrainPhase":
        if (self.backlog is None) == (self.backlog_messages is None):
            raise FieldProblems([(("backlog",), "give one of 'backlog' (bytes) or 'backlog_messages'")])
        return self

    @property
    def duration(self) -> float:
        """An upper bound: the phase usually ends when the backlog is drained."""
        return self.timeout


Phase = Annotated[Union[WarmupPhase, SteadyPhase, RampPhase, StepsPhase, SearchPhase, DrainPhase], Field(discriminator="kind")]


# --------------------------------------------------------------------------- SLOs

METRIC_PATTERN = re.compile(
    r"^(produce|consume)\.(rate|throughput_mb|errors|error_rate|lost|duplicated|out_of_order)$"
    r"|^consume\.(position_lag|committed_lag|lag|lag_growth)$"
    r"|^(publish_latency|publish_delay|corrected_latency|e2e_latency)\.(p50|p90|p95|p99|p999|max|mean)$"
    r"|^disk\.(util|await|aqu_sz|w_per_s|r_per_s|wkb_per_s|rkb_per_s)$"
    r"|^broker\.(under_replicated|offline_partitions|log_dir_bytes)$"
    r"|^jmeter\.(rate|error_rate|elapsed\.(p50|p90|p95|p99|max|mean))$"
    # the brokers' JMX and the hosts (orchestrator.plan.sources)
    rf"|^({'|'.join(re.escape(name) for name in CATALOGUE)})$"
)


# older names, read as the metric they always were
METRIC_ALIASES = {"consume.lag": "consume.position_lag"}


class Slo(Model):
    """A service-level objective: holds when `observed op threshold` over its window."""

    name: Name = Field(description="SLO name; one JUnit testcase each")
    metric: str = Field(description="e.g. publish_latency.p99, produce.rate, consume.lost, disk.util; see docs/plan.md",
                        json_schema_extra={"pattern": METRIC_PATTERN.pattern})
    op: Literal["<", "<=", ">", ">="] = Field("<=", description="The SLO holds when `observed op threshold`")
    threshold: float | str = Field(description="A number in the metric's unit, or with a unit: '20ms', '5k/s', '80%'")
    workload: Name | None = Field(None, description="Only this workload; default: all workloads combined")
    phase: Name | None = Field(None, description="Only this phase; default: every phase but warm-ups")
    sustained: Duration | None = Field(None, gt=0, description="Breached only when violated for this long without a break")
    abort: bool = Field(False, description="Stop the run as soon as the SLO is breached")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if not METRIC_PATTERN.match(metric):
            raise ValueError(f"unknown metric {metric!r}; see the metric list in docs/plan.md")
        return METRIC_ALIASES.get(metric, metric)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, threshold: float | str) -> float | str:
        if isinstance(threshold, float) and not math.isfinite(threshold):
            raise ValueError(f"the threshold must be a finite number, got {threshold}")
        return threshold


# --------------------------------------------------------------------------- monitors, faults, report


class IostatMonitor(Model):
    """iostat -dxk on every broker host (this machine for the local target)."""

    enabled: bool = Field(True, description="Run iostat during the run")
    interval: Duration = Field("1s", ge=1, description="Sampling interval (whole seconds)")
    devices: list[str] = Field(default_factory=list, description="Devices to keep; empty: all")


class KafkaAdminMonitor(Model):
    """Samples consumer lag, log-dir sizes and under-replicated partitions through the admin API."""

    enabled: bool = Field(True, description="Sample the cluster during the run")
    interval: Duration = Field("5s", ge=1, description="Sampling interval")


class JmxMonitor(Model):
    """Each broker's own metrics over JMX, read by Kafka's JmxTool (one process per broker)."""

    enabled: bool = Field(False, description="Sample the brokers' JMX during the run (costs one small JVM per broker)")
    interval: Duration = Field("5s", ge=1, description="Sampling interval")
    port: int = Field(9999, ge=1, le=65535, description=(
        "JMX port of provisioned brokers, bound to their lab address; the local broker uses a free loopback port"))


class HostMonitor(Model):
    """CPU, memory and network of this machine (psutil), and of each inventory broker host (the
    monitor role, beside iostat: it needs monitors.iostat too)."""

    enabled: bool = Field(True, description="Sample the host during the run")
    interval: Duration = Field("1s", ge=1, description="Sampling interval")


class Monitors(Model):
    """Samplers that run beside the load."""

    iostat: IostatMonitor = Field(default_factory=IostatMonitor, description="Disk statistics")
    kafka_admin: KafkaAdminMonitor = Field(default_factory=KafkaAdminMonitor, description="Cluster statistics")
    jmx: JmxMonitor = Field(default_factory=JmxMonitor, description="Broker metrics from JMX")
    host: HostMonitor = Field(default_factory=HostMonitor, description="Host CPU, memory and network")


class Fault(Model):
    """A scheduled fault on a broker (or every broker); the report marks it on every chart."""

    name: Name = Field(description="Fault name")
    action: FaultActionName = Field(description="; ".join(f"{name}: {a.summary}" for name, a in ACTIONS.items()))
    at: Duration = Field(description="Offset from the start of the first phase")
    duration: Duration = Field(gt=0, description="How long the fault lasts before it is undone (rolling_restart: "
                               "the longest it may take)")
    broker: int | str = Field(0, description="Broker node id or inventory host name (not read by rolling_restart)")
    fill_to: Fraction | None = Field(None, description="disk_full: the share of the log dir's file system to fill "
                                     "to; default: every free byte")
    latency: Duration | None = Field(None, gt=0, description="network_degrade: delay added to each packet (tc netem)")
    loss: Fraction | None = Field(None, description="network_degrade: share of packets dropped")
    bandwidth: Size | None = Field(None, description="network_degrade: bytes per second each way through the "
                                   "broker's ports")

    @model_validator(mode="after")
    def _params(self) -> "Fault":
        if problems := list(param_problems(self)):
            raise FieldProblems(problems)
        return self


class ReportOptions(Model):
    """What the report shows and which files it writes."""

    title: str | None = Field(None, description="Report title; default: the plan name")
    percentiles: list[Annotated[float, Field(gt=0, lt=100)]] = Field(
        default_factory=lambda: [50.0, 90.0, 99.0, 99.9], description="Percentiles shown in tables")
    formats: list[Literal["html", "junit", "csv", "omb", "hlog"]] = Field(
        default_factory=lambda: ["html", "junit", "csv", "omb", "hlog"], description="Outputs to write besides summary.json")


# --------------------------------------------------------------------------- inventory and provisioning


class Host(Model):
    """A machine Ansible manages: a broker, a controller and/or a load agent."""

    name: Name = Field(description="Host name used by workloads' agents and faults")
    address: str = Field(description="IP address or host name Ansible connects to")
    roles: list[Literal["broker", "controller", "agent"]] = Field(min_length=1, description="broker, controller and/or agent")
    connection: Literal["ssh", "local"] = Field("ssh", description="How Ansible reaches the host")
    user: str | None = Field(None, description="SSH user")
    port: int = Field(22, strict=True, ge=1, le=65535, description="SSH port")
    ssh_key: LocalFile | None = Field(None, description="SSH private key file")
    kafka_port: int = Field(9092, strict=True, ge=1, le=65535, description="Broker listener port on this host")
    controller_port: int = Field(9093, strict=True, ge=1, le=65535, description="KRaft controller listener port on this host")
    node_id: int | None = Field(None, strict=True, ge=0, description="KRaft node.id; default: assigned in inventory order")
    rack: str | None = Field(None, description="broker.rack")
    data_dir: str | None = Field(None, description="Where this host's Kafka keeps its install and logs")
    python: str = Field("/usr/bin/python3", description="Python interpreter Ansible uses on this host (local hosts use orchestrate's own)")


class Inventory(Model):
    """The hosts of the plan, listed here or in an existing Ansible inventory."""

    hosts: list[Host] = Field(default_factory=list, description="The hosts, with their roles")
    path: LocalFile | None = Field(None, description="An existing Ansible inventory (INI, YAML or TOML) to read "
                                   "the hosts from, instead of 'hosts'; see docs/provisioning.md")

    @model_validator(mode="after")
    def _one_source(self) -> "Inventory":
        # a plan file gives one of them (the loader checks that); it then fills 'hosts' from 'path',
        # which stays for the record, so a resolved plan carries both
        if not self.hosts and not self.path:
            raise FieldProblems([((), "give one of 'hosts' or 'path'")])
        return self


class Provision(Model):
    """How `orchestrate provision` installs Kafka on the inventory's hosts."""

    kafka_version: str = Field("4.1.1", description="Apache Kafka version to install")
    install_source: Literal["maven", "tarball"] = Field("maven", description="maven: jars from Maven Central; tarball: tarball_url")
    tarball_url: str | None = Field(None, description="Apache Kafka tarball URL (install_source tarball)")
    mode: Literal["combined", "separate"] = Field("combined", description="KRaft roles on the same or separate processes")
    heap: Size = Field("1GiB", description="Broker JVM heap")
    log_dirs: list[str] = Field(default_factory=list, description="Disks for log.dirs; default: under data_dir")
    properties: dict[str, Scalar] = Field(default_factory=dict, description="Extra server.properties")
    wipe: bool = Field(False, description="Wipe data before starting")
    os_tuning: bool = Field(True, description="Raise vm.max_map_count, lower vm.swappiness (host-wide; reported when not permitted)")
    teardown: bool = Field(True, description="Stop (and with wipe, remove) the cluster after apply")

    @model_validator(mode="after")
    def _tarball(self) -> "Provision":
        if self.install_source == "tarball" and not self.tarball_url:
            raise FieldProblems([(("tarball_url",), "install_source 'tarball' needs a tarball_url")])
        return self


# --------------------------------------------------------------------------- the plan


class Plan(Model):
    """A declarative Kafka load, soak or failure test: what to run, against what, and what must hold."""

    metadata: Metadata = Field(description="Name and description")
    target: Target = Field(default_factory=LocalTarget, description="The cluster under test; default: a local broker")
    topics: list[Topic] = Field(default_factory=list, description="Topics created if missing, verified if present")
    workloads: list[Workload] = Field(min_length=1, description="Producers, consumers and JMeter scripts")
    phases: list[Phase] = Field(min_length=1, description="The run's timeline, in order")
    slos: list[Slo] = Field(default_factory=list, description="What must hold; any failure makes apply exit 1")
    monitors: Monitors = Field(default_factory=Monitors, description="What is sampled besides the clients")
    faults: list[Fault] = Field(default_factory=list, description="Scheduled broker failures")
    report: ReportOptions = Field(default_factory=ReportOptions, description="Report options")
    inventory: Inventory | None = Field(None, description="Hosts for a provisioned target, remote agents and remote iostat")
    provision: Provision | None = Field(None, description="How a provisioned target is installed")

    @model_validator(mode="after")
    def _cross_checks(self) -> "Plan":
        if problems := plan_problems(self):
            raise FieldProblems(problems)
        return self

    @property
    def total_duration(self) -> float:
        return sum(p.duration for p in self.phases)

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)
