"""summary.json: the typed result of a run. Its JSON Schema is ``Summary.model_json_schema()``
(written to docs/summary.schema.json); docs/results.md explains each field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2  # 2: position and committed lag apart, figure windows, lost_excluded


class SummaryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LatencyStats(SummaryModel):
    """Milliseconds. ``count`` is the number of samples the percentiles were computed from."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None
    mean: float | None = None


FigureWindow = Literal["measured", "whole run"]


class Throughput(SummaryModel):
    msgs_per_s: float = 0.0
    mb_per_s: float = 0.0
    window: FigureWindow = Field("whole run", description=(
        "measured: messages in the measured window (every phase but warm-ups, as SLOs) / its seconds; "
        "whole run: all messages / first to last record (JMeter workloads, or a run without phases)"))
    window_s: float = Field(0.0, description="the seconds divided by")


class LossExclusion(SummaryModel):
    """Acknowledged messages that ``lost`` leaves out because the consumer could never have read them."""

    reason: Literal["before_start", "after_stop"] = Field(description=(
        "before_start: acknowledged at offsets before the position a start: latest consumer began at; after_stop: at or beyond the position the consumer had reached when it "
        "stopped (its drain ran out first): unread, not lost"))
    messages: int
    partitions: list[int]
    detail: str = Field(description="the reason, as a sentence")


class ErrorCount(SummaryModel):
    code: str = Field(description="Kafka error name (native: KafkaError.name()) or JMeter response code")
    count: int
    first: float = Field(description="epoch seconds of the interval it was first seen in")


class WorkloadSummary(SummaryModel):
    name: str
    kind: Literal["producer", "consumer", "script"]
    engine: Literal["native", "jmeter"]
    messages: int = 0
    bytes: int = 0
    errors: int = 0
    duration_s: float = 0.0
    throughput: Throughput = Field(default_factory=Throughput)
    # keys: publish_latency, publish_delay, corrected_latency, e2e_latency, elapsed (jmeter)
    latency_ms: dict[str, LatencyStats] = Field(default_factory=dict)
    lost: int | None = None
    lost_excluded: list[LossExclusion] = Field(default_factory=list, description="what ``lost`` does not count, and why")
    duplicated: int | None = None
    redelivered: int | None = Field(None, description=(
        "consumers: messages read again at an offset already read, after a rebalance or coordinator failover "
        "(at-least-once delivery); not duplicates, which are second copies in the log"))
    out_of_order: int | None = None
    errors_by_code: list[ErrorCount] = Field(default_factory=list, description="failed sends by error, most frequent first")
    max_position_lag: int | None = Field(None, description=(
        "consumers: peak of consume.position_lag (log end offset - the consumer's own position, from the runner)"))
    max_committed_lag: int | None = Field(None, description=(
        "consumers: peak of consume.committed_lag (log end offset - the group's committed offset, from admin samples)"))
    windows: dict[str, FigureWindow] = Field(default_factory=dict, description=(
        "the window of each figure above, by field name: measured (every phase but warm-ups) or whole run"))


class SloResult(SummaryModel):
    name: str
    metric: str
    op: str
    threshold: float
    unit: str
    observed: float | None
    verdict: Literal["pass", "fail", "no_data"]
    workload: str | None = None
    phase: str | None = None
    sustained_s: float | None = None
    window_s: float | None = Field(None, description="Seconds of the window the SLO was judged over; null when it never ran")
    breached_at: float | None = Field(None, description="Epoch seconds of the first breach")
    stalled_s: int | None = Field(None, description=(
        "latency SLOs: seconds of the window in which no message completed while outstanding ones had "
        "already waited past the threshold (each counts as a breach at that wait)"))
    aborted_run: bool = False


class PhaseSpan(SummaryModel):
    name: str
    kind: str
    start: float
    end: float | None = None


class StepSpan(SummaryModel):
    """One step of a ``steps`` phase or one probe of a ``search``: its intended rate and the window
    that judges it (epoch seconds)."""

    name: str = Field(description="<phase>/<n>, n from 1")
    phase: str
    role: Literal["step", "probe", "confirm"]
    rate: float = Field(description="intended msg/s of the producer workload")
    start: float
    end: float | None = Field(None, description="None when the run ended during the step")
    measured_from: float = Field(description="start of the judged window: a probe's settle is left out")
    measured_to: float


class Event(SummaryModel):
    ts: float
    # run_start, run_end, phase_start, phase_end, step_start, step_end, fault_start, fault_end,
    # slo_breach, abort, interrupt, backlog_written (a drain's consumers released), backlog_drained
    kind: str
    name: str = ""
    detail: str = ""


class OrchestratorUsage(SummaryModel):
    """What apply itself cost: the overhead a load tool adds to what it measures."""

    ready_to_load_s: float = Field(description="from the cluster answering to the first phase's start: topics, "
                                               "components prepared and started, the start lead")
    cpu_s: float = Field(description="apply's own CPU time (user + system) while the load ran; runners, brokers "
                                     "and JMeter are other processes and not counted")
    cpu_share: float = Field(description="cpu_s over the load's wall time: 0.05 is 5 % of one core")
    max_rss_mb: float = Field(description="apply's peak resident memory")
    runners_cpu_s: float | None = Field(default=None, description="the native runners' own CPU time (user + "
                                        "system, from their end records), summed: what apply's cpu_s compares with")


class Environment(SummaryModel):
    kafka_version: str | None = None
    brokers: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    engines: dict[str, str] = Field(default_factory=dict)
    host: str | None = None
    orchestrator: OrchestratorUsage | None = Field(None, description="apply's own cost; null for runs before it was recorded")


class RunInfo(SummaryModel):
    id: str
    started: float | None = None
    ended: float | None = None
    duration_s: float = 0.0
    status: Literal["completed", "aborted", "interrupted", "failed", "killed", "incomplete"] = "completed"
    reason: str = ""

    @property
    def unfinished(self) -> bool:
        """apply died (killed) or never began the run (incomplete): such a run can never pass."""
        return self.status in ("killed", "incomplete")


class AnswerWindow(SummaryModel):
    """A stretch of the run an answer's number was measured over (epoch seconds)."""

    label: str  # what was measured there, e.g. "growth fit", "probe 40,000 msg/s (measured)"
    start: float
    end: float


class Answer(SummaryModel):
    """One question the run answers: the sentence a person reads, its headline number, and the
    evidence a reader needs to check it. Computed by orchestrator/analyze, shown by the report."""

    question: Literal["disk", "capacity", "consumer_rate", "brokers", "recovery", "detection"]
    sentence: str
    value: float | None = Field(None, description="the headline number, in ``unit``; None when the run could not answer")
    unit: str = ""
    verdict: str | None = Field(None, description="where one applies, e.g. fits / does not fit, held / not held")
    answered: bool = Field(True, description="False when the analysis refused to answer; ``sentence`` says why")
    alarm: bool = Field(False, description="the verdict is bad news (e.g. the disk does not fit): the report "
                                           "header shows the sentence even when every SLO held")
    windows: list[AnswerWindow] = Field(default_factory=list)
    inputs: dict[str, str | float | int | bool | None] = Field(
        default_factory=dict, description="what the analysis used and where each came from")
    rows: list[dict[str, str | float | int | bool | None]] = Field(
        default_factory=list, description="per-step evidence (probes, brokers, ...) as shown in the report")
    section: str = Field("", description="id of the report section the answer links to")


class PartitionShare(SummaryModel):
    partition: str = Field(description='"<topic>-<partition>"')
    bytes: int = Field(description="bytes appended to its leader replica's log over the run")
    share: float = Field(description="of the topic's appended bytes (0..1)")
    leader: str | None = Field(None, description="its leader's broker id in the last sample")


class TopicPlacement(SummaryModel):
    topic: str
    bytes: int
    partitions: list[PartitionShare] = Field(description="hottest first")
    max_over_mean: float | None = Field(None, description="the hottest partition's bytes over the mean partition's")


class BrokerShare(SummaryModel):
    broker: str
    bytes: int = Field(description="appended to this broker's log dirs for the plan's topics, replicas included")
    share: float = Field(description="of all brokers' appended bytes (0..1)")
    leaders: int = Field(0, description="partitions of the plan's topics it leads in the last sample")
    replicas: int = Field(0, description="replicas of the plan's topics it holds in the last sample")


class Placement(SummaryModel):
    """How the load spread over partitions and brokers: the skew a hot key or a slow broker makes."""

    source: str = Field(description="what the bytes were measured from, and how often")
    topics: list[TopicPlacement] = Field(default_factory=list)
    brokers: list[BrokerShare] = Field(default_factory=list, description="busiest first")
    broker_max_over_mean: float | None = Field(None, description="the busiest broker's bytes over the mean broker's")


class SourceStats(SummaryModel):
    """One broker (JMX) or host metric of one broker or host over the judged window."""

    metric: str = Field(description="a name of the catalogue in docs/results.md, e.g. broker.request_handler_idle")
    source: str = Field(description="the broker id (broker.*) or host name (host.*)")
    unit: str
    seconds: int = Field(description="seconds of the window with a value")
    min: float
    mean: float
    max: float


class Summary(SummaryModel):
    schema_version: int = SCHEMA_VERSION
    plan: dict[str, object] = Field(default_factory=dict, description="metadata of the plan")
    run: RunInfo
    verdict: Literal["pass", "fail"]
    environment: Environment = Field(default_factory=Environment)
    phases: list[PhaseSpan] = Field(default_factory=list)
    steps: list[StepSpan] = Field(default_factory=list, description="steps of steps phases and probes of searches, in order")
    workloads: list[WorkloadSummary] = Field(default_factory=list)
    slos: list[SloResult] = Field(default_factory=list)
    answers: list[Answer] = Field(default_factory=list, description="the questions this run answers, in plan order")
    placement: Placement | None = Field(None, description="per-partition and per-broker spread of the bytes written; null without log-dir samples")
    metrics: list[SourceStats] = Field(default_factory=list, description=(
        "the brokers' JMX and the hosts' metrics over the judged window, per broker or host; empty when not sampled"))
    events: list[Event] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
