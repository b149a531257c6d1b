"""The report's charts of the brokers' JMX and of the hosts: panels of catalogue metrics
(``orchestrator.plan.sources``), one line per broker or host. A panel without data is left out."""

from __future__ import annotations

from orchestrator.collect.timeline import Timeline
from orchestrator.report.charts import Chart, Line, Markers, time_chart

# (panel title, y label, scale of the values, metrics with their legend names)
Panel = tuple[str, str, float, tuple[tuple[str, str], ...]]
_REQUESTS = (("produce", "Produce"), ("fetch_consumer", "FetchConsumer"), ("fetch_follower", "FetchFollower"))

BROKER_PANELS: tuple[Panel, ...] = (
    ("Bytes in and out", "MB/s", 1.0, (("broker.bytes_in_mb", "in"), ("broker.bytes_out_mb", "out"))),
    ("Messages in", "msg/s", 1.0, (("broker.messages_in", "messages in"),)),
    ("Requests per second", "requests/s", 1.0, tuple((f"broker.{k}_rate", n) for k, n in _REQUESTS)),
    ("Request total time (mean over the interval)", "ms", 1.0, tuple((f"broker.{k}_total_ms", n) for k, n in _REQUESTS)),
    ("Request total time p99", "ms", 1.0, tuple((f"broker.{k}_total_p99_ms", n) for k, n in _REQUESTS)),
    ("Request queue time (mean)", "ms", 1.0, tuple((f"broker.{k}_queue_ms", n) for k, n in _REQUESTS)),
    ("Thread idle", "%", 1.0, (("broker.request_handler_idle", "request handlers"), ("broker.network_idle", "network processors"))),
    ("Partitions", "count", 1.0, (("broker.under_replicated_jmx", "under-replicated"),
                                  ("broker.under_min_isr", "under min ISR"), ("broker.leader_count", "leaders"))),
    ("ISR changes and unclean elections", "per s", 1.0, (("broker.isr_shrinks", "ISR shrinks"), ("broker.isr_expands", "ISR expands"),
                                                         ("broker.unclean_elections", "unclean elections"))),
    ("Throttle time (mean)", "ms", 1.0, (("broker.produce_throttle_ms", "produce"), ("broker.fetch_throttle_ms", "fetch"))),
    ("JVM heap used", "MB", 1e-6, (("broker.heap_used", "heap"),)),
    ("GC and CPU", "%", 1.0, (("broker.gc_time", "GC time"), ("broker.cpu", "process CPU"))),
)
HOST_PANELS: tuple[Panel, ...] = (
    ("CPU", "%", 1.0, (("host.cpu", "CPU"),)),
    ("Memory in use", "%", 1.0, (("host.memory", "memory"),)),
    ("Network", "MB/s", 1.0, (("host.net_rx_mb", "received"), ("host.net_tx_mb", "sent"))),
)


def source_charts(timeline: Timeline, markers: Markers, panels: tuple[Panel, ...], who: str) -> tuple[list[Chart], str]:
    """One stacked chart of the panels that have data (empty when none has), and a sentence naming
    the panels measured as zero in every sample, which are said instead of drawn flat. ``who``: the
    legend's name of a series' broker or host, e.g. "broker {}"."""
    drawn, zero = [], []
    for title, unit, scale, metrics in panels:
        lines = [Line(f"{who.format(k.host)} · {name}", [None if v is None else v * scale for v in values])
                 for metric, name in metrics
                 for k, values in sorted(timeline.select(metric).items(), key=lambda kv: kv[0].column())
                 if k.host is not None]
        measured = [v for line in lines for v in line.values if v is not None]
        if measured and not any(measured):
            zero.append(title)
        else:
            drawn.append((title, unit, lines))
    chart = time_chart(drawn, markers, timeline.length)
    return ([chart] if chart is not None else []), (f"Zero in every sample: {'; '.join(zero)}." if zero else "")
