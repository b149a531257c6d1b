"""The plan language: frozen Pydantic models, validated once when a plan is loaded.

Every model forbids unknown keys, so a typo is an error (with a suggestion) rather than a silently
ignored setting. Field docstrings (``description=``) feed ``orchestrate schema`` and docs/plan.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.plan.units import Duration, Rate, Size

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
EnvVar = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name of an environment variable holding the secret")]
MAX_DURATION_S = 30 * 86400
MAX_RATE = 50_000_000.0


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True)


# --------------------------------------------------------------------------- metadata


class Metadata(Model):
    name: Name = Field(description="Plan name; used in the run directory name and the report title")
    description: str = Field("", description="What this plan answers, in a sentence or two")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels copied into summary.json")


# --------------------------------------------------------------------------- target and security


class SaslSettings(Model):
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    username: str
    password_env: EnvVar = Field(description="Environment variable that holds the SASL password")


class SslSettings(Model):
    ca_file: str | None = Field(None, description="PEM CA bundle used to verify brokers")
    cert_file: str | None = Field(None, description="PEM client certificate (mutual TLS)")
    key_file: str | None = Field(None, description="PEM client key (mutual TLS)")
    key_password_env: EnvVar | None = None
    keystore_file: str | None = Field(None, description="PKCS12/JKS keystore (JMeter engine)")
    keystore_password_env: EnvVar | None = None
    truststore_file: str | None = None
    truststore_password_env: EnvVar | None = None
    verify_hostname: bool = True


class Security(Model):
    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl: SaslSettings | None = None
    ssl: SslSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Security":
        if self.protocol.startswith("SASL") and self.sasl is None:
            raise ValueError(f"protocol {self.protocol} needs a 'sasl' section")
        if not self.protocol.startswith("SASL") and self.sasl is not None:
            raise ValueError(f"'sasl' is set but protocol is {self.protocol}")
        return self


class LocalTarget(Model):
    """An embedded single-node KRaft broker that apply starts on 127.0.0.1 and stops at the end."""

    kind: Literal["local"] = "local"
    kafka_version: str = Field("4.1.1", description="Apache Kafka version resolved from Maven Central (or KAFKA_HOME)")
    heap: Size = Field("1GiB", description="Broker JVM heap")
    properties: dict[str, str | int | float | bool] = Field(default_factory=dict, description="Extra server.properties")


class ExistingTarget(Model):
    """A cluster that is already running, reached through its bootstrap servers."""

    kind: Literal["existing"]
    bootstrap_servers: list[str] = Field(min_length=1, description="host:port pairs")
    security: Security = Field(default_factory=Security)


class ProvisionedTarget(Model):
    """A cluster that `orchestrate provision` (or apply) installs on the plan's inventory."""

    kind: Literal["provisioned"]
    security: Security = Field(default_factory=Security)


Target = Annotated[Union[LocalTarget, ExistingTarget, ProvisionedTarget], Field(discriminator="kind")]


# --------------------------------------------------------------------------- topics

CleanupPolicy = Literal["delete", "compact", "delete,compact", "compact,delete"]


class Topic(Model):
    name: Name
    partitions: int = Field(1, ge=1, le=100_000)
    replication_factor: int = Field(1, ge=1, le=32)
    retention: Duration | None = Field(None, description="retention.ms as a duration ('7d'); -1 not allowed, omit for the broker default")
    retention_bytes: Size | None = Field(None, description="retention.bytes per partition")
    min_insync_replicas: int | None = Field(None, ge=1)
    cleanup_policy: CleanupPolicy | None = None
    configs: dict[str, str | int | float | bool] = Field(default_factory=dict, description="Any other topic configs, verbatim")
    if_exists: Literal["verify", "recreate", "use"] = Field(
        "verify", description="verify: fail if partitions/configs differ; recreate: delete and create; use: take as is"
    )
    delete_after: bool = Field(False, description="Delete the topic when the run ends")

    @model_validator(mode="after")
    def _isr(self) -> "Topic":
        if self.min_insync_replicas is not None and self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"min_insync_replicas ({self.min_insync_replicas}) exceeds replication_factor ({self.replication_factor})"
            )
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


class FixedSize(Model):
    distribution: Literal["fixed"] = "fixed"
    size: Size = Field(ge=0, le=64 * 1024**2)


class UniformSize(Model):
    distribution: Literal["uniform"]
    min: Size = Field(ge=0)
    max: Size = Field(le=64 * 1024**2)

    @model_validator(mode="after")
    def _order(self) -> "UniformSize":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class NormalSize(Model):
    distribution: Literal["normal"]
    mean: Size = Field(ge=0, le=64 * 1024**2)
    stddev: Size = Field(ge=0)
    min: Size = 0
    max: Size = Field(64 * 1024**2, le=64 * 1024**2)


SizeDistribution = Annotated[Union[FixedSize, UniformSize, NormalSize], Field(discriminator="distribution")]


class Message(Model):
    size: Size | SizeDistribution | None = Field(
        None, description="A fixed size ('1KiB') or a distribution {distribution: uniform|normal, ...}"
    )
    payload_file: str | None = Field(None, description="File whose lines are sent as payloads, in turn")

    @model_validator(mode="after")
    def _one_source(self) -> "Message":
        if (self.size is None) == (self.payload_file is None):
            raise ValueError("give exactly one of 'size' or 'payload_file'")
        return self

    def size_distribution(self) -> FixedSize | UniformSize | NormalSize | None:
        return FixedSize(size=self.size) if isinstance(self.size, int) else self.size


class Keys(Model):
    distribution: Literal["none", "round_robin", "random", "zipf"] = "none"
    cardinality: int = Field(1000, ge=1, le=100_000_000, description="Number of distinct keys")
    skew: float = Field(1.1, gt=0, le=10, description="Zipf exponent (zipf only)")


# --------------------------------------------------------------------------- workloads

Engine = Literal["native", "jmeter"]
ClientProperties = dict[str, str | int | float | bool]


class WorkloadBase(Model):
    name: Name
    engine: Engine = Field("native", description="native: confluent-kafka runner; jmeter: JMeter through Taurus")
    instances: int = Field(1, ge=1, le=1024, description="Client processes (native) or threads (jmeter)")
    agents: list[str] = Field(default_factory=list, description="Inventory agent hosts to spread instances over; empty: this machine")
    properties: ClientProperties = Field(default_factory=dict, description="Extra client properties, verbatim")


class ProducerWorkload(WorkloadBase):
    kind: Literal["producer"]
    topic: Name
    rate: Rate = Field("max", description="Total rate over all instances, e.g. '5k/s', or 'max'; phases may override")
    message: Message = Field(default_factory=lambda: Message(size=1024))
    keys: Keys = Field(default_factory=Keys)
    acks: Literal["0", "1", "all"] = "all"
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "none"
    linger: Duration = Field(0.005, description="linger.ms as a duration")
    batch_size: Size = Field("64KiB", description="batch.size")
    idempotence: bool = False
    max_messages: int | None = Field(None, ge=1, description="Stop after this many messages (per workload)")

    @model_validator(mode="before")
    @classmethod
    def _acks_as_text(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("acks"), int) and not isinstance(data.get("acks"), bool):
            data = {**data, "acks": str(data["acks"])}
        if isinstance(data, dict) and data.get("acks") == -1:
            data = {**data, "acks": "all"}
        return data


class ConsumerWorkload(WorkloadBase):
    kind: Literal["consumer"]
    topic: Name
    group: Name | None = Field(None, description="Consumer group; default: orchestrate-<workload name>")
    start: Literal["earliest", "latest"] = "earliest"
    drain: Duration = Field("10s", description="After the last phase, keep consuming until idle this long")


class ScriptWorkload(WorkloadBase):
    """An existing JMeter test plan run unchanged under this plan (engine must be jmeter)."""

    kind: Literal["script"]
    engine: Literal["jmeter"] = "jmeter"
    script: str = Field(description="Path to a .jmx file, relative to the plan")
    topic: Name | None = Field(None, description="Topic the script uses; overrides its topic property")
    jmeter_properties: dict[str, str | int | float | bool] = Field(default_factory=dict, description="-J properties")
    modifications: dict[str, object] = Field(default_factory=dict, description="Taurus 'modifications' for the script")
    plugins: list[str] = Field(default_factory=list, description="Plugin jars: paths or Maven coordinates group:artifact:version")
    ramp_up: Duration | None = None
    duration: Duration | None = Field(None, description="Default: the plan's total phase duration")


Workload = Annotated[Union[ProducerWorkload, ConsumerWorkload, ScriptWorkload], Field(discriminator="kind")]


# --------------------------------------------------------------------------- phases


class PhaseBase(Model):
    name: Name


class WarmupPhase(PhaseBase):
    """Load that is measured but excluded from SLO verdicts."""

    kind: Literal["warmup"]
    duration: Duration
    rate: Rate | None = Field(None, description="Producer rate during warm-up; default: each workload's rate")


class SteadyPhase(PhaseBase):
    kind: Literal["steady"]
    duration: Duration
    rate: Rate | None = None


class RampPhase(PhaseBase):
    kind: Literal["ramp"]
    duration: Duration
    rate_from: Rate = Field(alias="from")
    rate_to: Rate = Field(alias="to")


class StepsPhase(PhaseBase):
    kind: Literal["steps"]
    step_duration: Duration
    rates: list[Rate] = Field(min_length=1)

    @property
    def duration(self) -> float:
        return self.step_duration * len(self.rates)


Phase = Annotated[Union[WarmupPhase, SteadyPhase, RampPhase, StepsPhase], Field(discriminator="kind")]


# --------------------------------------------------------------------------- SLOs

METRIC_PATTERN = re.compile(
    r"^(produce|consume)\.(rate|throughput_mb|errors|error_rate|lost|duplicated|out_of_order|lag)$"
    r"|^(publish_latency|publish_delay|corrected_latency|e2e_latency)\.(p50|p90|p95|p99|p999|max|mean)$"
    r"|^disk\.(util|await|aqu_sz|w_per_s|r_per_s|wkb_per_s|rkb_per_s)$"
    r"|^broker\.(under_replicated|offline_partitions|log_dir_bytes)$"
    r"|^jmeter\.(rate|error_rate|elapsed\.(p50|p90|p95|p99|max|mean))$"
)


class Slo(Model):
    name: Name
    metric: str = Field(description="e.g. publish_latency.p99, produce.rate, consume.lost, disk.util; see docs/plan.md")
    op: Literal["<", "<=", ">", ">="] = Field("<=", description="The SLO holds when `observed op threshold`")
    threshold: float | str = Field(description="A number in the metric's unit, or with a unit: '20ms', '5k/s', '80%'")
    workload: Name | None = Field(None, description="Only this workload; default: all workloads combined")
    phase: Name | None = Field(None, description="Only this phase; default: every phase but warm-ups")
    sustained: Duration | None = Field(None, description="Breached only when violated for this long without a break")
    abort: bool = Field(False, description="Stop the run as soon as the SLO is breached")

    @model_validator(mode="after")
    def _known_metric(self) -> "Slo":
        if not METRIC_PATTERN.match(self.metric):
            raise ValueError(f"unknown metric {self.metric!r}; see docs/plan.md for the list")
        return self


# --------------------------------------------------------------------------- monitors, faults, report


class IostatMonitor(Model):
    enabled: bool = True
    interval: Duration = Field(1.0, ge=1)
    devices: list[str] = Field(default_factory=list, description="Devices to keep; empty: all")


class KafkaAdminMonitor(Model):
    enabled: bool = True
    interval: Duration = Field(5.0, ge=1)


class Monitors(Model):
    iostat: IostatMonitor = Field(default_factory=IostatMonitor)
    kafka_admin: KafkaAdminMonitor = Field(default_factory=KafkaAdminMonitor)


class Fault(Model):
    name: Name
    action: Literal["broker_stop", "broker_kill", "broker_pause"] = Field(
        description="broker_stop: SIGTERM, restart after duration; broker_kill: SIGKILL, restart; broker_pause: SIGSTOP/SIGCONT"
    )
    at: Duration = Field(description="Offset from the start of the first phase")
    duration: Duration = Field(description="How long the fault lasts before recovery")
    broker: int | str = Field(0, description="Broker node id or inventory host name")


class ReportOptions(Model):
    title: str | None = None
    percentiles: list[float] = Field(default_factory=lambda: [50.0, 90.0, 99.0, 99.9], description="Percentiles shown in tables")
    formats: list[Literal["html", "junit", "csv", "omb"]] = Field(default_factory=lambda: ["html", "junit", "csv", "omb"])


# --------------------------------------------------------------------------- inventory and provisioning


class Host(Model):
    name: Name
    address: str = Field(description="IP address or host name Ansible connects to")
    roles: list[Literal["broker", "controller", "agent"]] = Field(min_length=1)
    connection: Literal["ssh", "local"] = "ssh"
    user: str | None = None
    port: int = Field(22, ge=1, le=65535)
    ssh_key: str | None = None
    kafka_port: int = Field(9092, ge=1, le=65535, description="Broker listener port on this host")
    controller_port: int = Field(9093, ge=1, le=65535)
    node_id: int | None = Field(None, ge=0)
    rack: str | None = None
    data_dir: str | None = Field(None, description="Where this host's Kafka keeps its install and logs")


class Inventory(Model):
    hosts: list[Host] = Field(default_factory=list)
    path: str | None = Field(None, description="An existing Ansible inventory instead of 'hosts'")

    @model_validator(mode="after")
    def _one_source(self) -> "Inventory":
        if bool(self.hosts) == bool(self.path):
            raise ValueError("give exactly one of 'hosts' or 'path'")
        return self


class Provision(Model):
    kafka_version: str = "4.1.1"
    install_source: Literal["maven", "tarball"] = "maven"
    tarball_url: str | None = None
    mode: Literal["combined", "separate"] = Field("combined", description="KRaft roles on the same or separate processes")
    heap: Size = "1GiB"
    log_dirs: list[str] = Field(default_factory=list, description="Disks for log.dirs; default: under data_dir")
    properties: dict[str, str | int | float | bool] = Field(default_factory=dict)
    wipe: bool = Field(False, description="Wipe data before starting")
    teardown: bool = Field(True, description="Stop (and with wipe, remove) the cluster after apply")


# --------------------------------------------------------------------------- the plan


class Plan(Model):
    metadata: Metadata
    target: Target = Field(default_factory=LocalTarget)
    topics: list[Topic] = Field(default_factory=list)
    workloads: list[Workload] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    slos: list[Slo] = Field(default_factory=list)
    monitors: Monitors = Field(default_factory=Monitors)
    faults: list[Fault] = Field(default_factory=list)
    report: ReportOptions = Field(default_factory=ReportOptions)
    inventory: Inventory | None = None
    provision: Provision | None = None

    @property
    def total_duration(self) -> float:
        return sum(p.duration for p in self.phases)

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)
