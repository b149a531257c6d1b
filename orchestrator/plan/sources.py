"""The catalogue of metrics read from the brokers' JMX and from the hosts: one typed entry per
metric name the timeline, the report and SLOs use (``broker.request_handler_idle``, ``host.cpu``).

A JMX entry names the MBean and attribute it is read from and how a sample becomes a value:

    gauge          the attribute as it is (times ``scale``)
    rate           its increase per second since the previous sample (a meter's Count, a GC's CollectionTime);
                   summed over the window's seconds it is the count of events (ISR shrinks)
    interval_mean  the mean of a histogram over the interval: Δ(Mean × Count) / ΔCount; none when ΔCount is 0

An MBean with a wildcard sums every MBean it matches (the garbage collectors). A counter that went
down (the broker restarted) gives no value for that sample. docs/results.md lists the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # metrics.py reads this catalogue
    from orchestrator.plan.metrics import Reduce, Unit

Derive = Literal["gauge", "rate", "interval_mean"]
Combine = Literal["sum", "max", "min"]


@dataclass(frozen=True)
class SourceMetric:
    name: str  # the metric name in the timeline and in SLOs
    unit: Unit
    reduce: Reduce  # how an SLO window reduces the series (see orchestrator.plan.metrics)
    combine: Combine  # how an SLO combines brokers or hosts each second
    title: str  # what it is, for docs/results.md


@dataclass(frozen=True)
class JmxMetric(SourceMetric):
    mbean: str = ""
    attribute: str = ""  # "HeapMemoryUsage.used": one field of a composite attribute
    derive: Derive = "gauge"
    scale: float = 1.0
    per_pool: bool = False  # divided by the node's request-handler pools (ROLE_MARKERS)

    @property
    def base_attribute(self) -> str:
        return self.attribute.partition(".")[0]


def _requests(request: str, key: str) -> tuple[JmxMetric, ...]:
    """Rate, mean and p99 total time, and mean queue time of one request type."""
    mbean = f"kafka.network:type=RequestMetrics,name={{}},request={request}"
    return (
        JmxMetric(f"broker.{key}_rate", "msg/s", "mean", "sum", f"{request} requests per second",
                  mbean.format("TotalTimeMs"), "Count", "rate"),
        JmxMetric(f"broker.{key}_total_ms", "ms", "peak", "max", f"{request} total time, mean over the interval",
                  mbean.format("TotalTimeMs"), "Mean", "interval_mean"),
        JmxMetric(f"broker.{key}_total_p99_ms", "ms", "peak", "max",
                  f"{request} total time p99 (the broker's decaying reservoir, about the last 5 minutes)",
                  mbean.format("TotalTimeMs"), "99thPercentile"),
        JmxMetric(f"broker.{key}_queue_ms", "ms", "peak", "max", f"{request} request-queue time, mean over the interval",
                  mbean.format("RequestQueueTimeMs"), "Mean", "interval_mean"),
    )


_TOPICS = "kafka.server:type=BrokerTopicMetrics,name={}"
_REPLICAS = "kafka.server:type=ReplicaManager,name={}"

JMX_METRICS: tuple[JmxMetric, ...] = (
    JmxMetric("broker.bytes_in_mb", "MB/s", "mean", "sum", "bytes in from clients (all topics)",
              _TOPICS.format("BytesInPerSec"), "Count", "rate", 1e-6),
    JmxMetric("broker.bytes_out_mb", "MB/s", "mean", "sum", "bytes out to clients and followers (all topics)",
              _TOPICS.format("BytesOutPerSec"), "Count", "rate", 1e-6),
    JmxMetric("broker.messages_in", "msg/s", "mean", "sum", "messages in (all topics)",
              _TOPICS.format("MessagesInPerSec"), "Count", "rate"),
    *_requests("Produce", "produce"),
    *_requests("FetchConsumer", "fetch_consumer"),
    *_requests("FetchFollower", "fetch_follower"),
    JmxMetric("broker.produce_throttle_ms", "ms", "peak", "max", "produce throttle time, mean over the interval",
              "kafka.network:type=RequestMetrics,name=ThrottleTimeMs,request=Produce", "Mean", "interval_mean"),
    JmxMetric("broker.fetch_throttle_ms", "ms", "peak", "max", "consumer fetch throttle time, mean over the interval",
              "kafka.network:type=RequestMetrics,name=ThrottleTimeMs,request=FetchConsumer", "Mean", "interval_mean"),
    # the meter counts idle nanoseconds divided by the pool's handler threads: its increase per second / 1e9 is
    # the idle share. In Kafka 4.1 a combined node's broker and controller pools both mark it (up to 200%):
    # divided by the pools, it is the idle share of all the node's handler threads (both pools have num.io.threads)
    JmxMetric("broker.request_handler_idle", "%", "trough", "min", "request handler threads' average idle share",
              "kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent", "Count", "rate", 1e-7,
              per_pool=True),
    JmxMetric("broker.network_idle", "%", "trough", "min", "network processor threads' average idle share",
              "kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent", "Value", "gauge", 100.0),
    JmxMetric("broker.under_replicated_jmx", "count", "peak", "max",
              "under-replicated partitions this broker leads (broker.under_replicated: the admin samples, cluster-wide)",
              _REPLICAS.format("UnderReplicatedPartitions"), "Value"),
    JmxMetric("broker.under_min_isr", "count", "peak", "max", "partitions this broker leads with fewer in-sync replicas than min.insync.replicas",
              _REPLICAS.format("UnderMinIsrPartitionCount"), "Value"),
    JmxMetric("broker.isr_shrinks", "count", "total", "sum", "ISR shrinks (per second; an SLO sums them over its window)",
              _REPLICAS.format("IsrShrinksPerSec"), "Count", "rate"),
    JmxMetric("broker.isr_expands", "count", "total", "sum", "ISR expands (per second; an SLO sums them over its window)",
              _REPLICAS.format("IsrExpandsPerSec"), "Count", "rate"),
    JmxMetric("broker.leader_count", "count", "peak", "max", "partitions this broker leads (a change is a leader election)",
              _REPLICAS.format("LeaderCount"), "Value"),
    # KRaft has no leader-election rate (LeaderElectionRateAndTimeMs was the ZooKeeper controller's):
    # elections show as leader_count changes; the active controller counts unclean ones
    JmxMetric("broker.unclean_elections", "count", "total", "sum", "unclean leader elections (per second, on the active controller)",
              "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec", "Count", "rate"),
    JmxMetric("broker.heap_used", "B", "peak", "max", "JVM heap in use",
              "java.lang:type=Memory", "HeapMemoryUsage.used"),
    JmxMetric("broker.gc_time", "%", "peak", "max", "share of wall time spent in garbage collection (all collectors)",
              "java.lang:type=GarbageCollector,name=*", "CollectionTime", "rate", 0.1),
    JmxMetric("broker.cpu", "%", "peak", "max", "the broker process's CPU use (100% = every core of its host)",
              "java.lang:type=OperatingSystem", "ProcessCpuLoad", "gauge", 100.0),
)

# an MBean only a broker, and one only a controller registers: a node's roles, hence its handler pools
ROLE_MARKERS = ("kafka.server:type=ReplicaManager,name=LeaderCount",
                "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec")

HOST_METRICS: tuple[SourceMetric, ...] = (
    SourceMetric("host.cpu", "%", "peak", "max", "CPU use of the whole host (100% = every core)"),
    SourceMetric("host.memory", "%", "peak", "max", "memory in use (total minus available)"),
    SourceMetric("host.net_rx_mb", "MB/s", "mean", "sum", "bytes received, every interface including loopback"),
    SourceMetric("host.net_tx_mb", "MB/s", "mean", "sum", "bytes sent, every interface including loopback"),
)

CATALOGUE: dict[str, SourceMetric] = {m.name: m for m in (*JMX_METRICS, *HOST_METRICS)}


def monitor_of(metric: str) -> Literal["jmx", "host"] | None:
    """The ``monitors`` entry that measures the metric, for the catalogue's metrics."""
    if metric in CATALOGUE:
        return "host" if metric.startswith("host.") else "jmx"
    return None
