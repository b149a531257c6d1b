"""Disk: how fast the log dirs fill, what each broker holds once retention deletes, whether that
fits the free space, and whether clean-up keeps up. One projection, for the ``disk`` answer and the
report's Disk projection section.

The rate is the measured growth of the topic's partitions in the log dirs (``broker.log_dir_bytes``
per topic, summed over brokers: after compression, with batch and index overhead, times
replication), fitted only over the stretch where the log is growing: a hinge fit (growth, then
flat) finds where retention began to hold the size, so a plateau does not bend the rate. The
client's payload bytes over the same stretch are shown beside it.

Retention deletes whole segments, never the active one, at most every
``log.retention.check.interval.ms``, and a deleted segment stays on disk for
``file.delete.delay.ms``. So a partition replica written at r bytes/s peaks at

    time:  r * (retention.ms + check interval) + one segment      (the oldest segment straddles the horizon)
    bytes: retention.bytes + one segment + r * check interval
    whichever is smaller, plus the deleted segments still waiting out the delete delay,

where one segment is ``segment.bytes``, or what ``segment.ms`` lets it reach. These settings are the
topic's effective configuration read from the cluster during the run when the admin samples
recorded it, else the plan's (with Kafka's defaults where it says nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from orchestrator.analyze.window import Window
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.collect.timeline import Timeline
from orchestrator.plan.models import LocalTarget, Plan, ProducerWorkload, Topic
from orchestrator.plan.units import format_duration

WEEK_S = 7 * 86400.0
# Kafka's defaults, for settings neither the cluster nor the plan gave
KAFKA_DEFAULTS = {"retention.ms": "604800000", "retention.bytes": "-1", "segment.bytes": "1073741824",
                  "segment.ms": "604800000", "file.delete.delay.ms": "60000", "cleanup.policy": "delete",
                  "log.retention.check.interval.ms": "300000"}
# broker-wide names of the topic settings, for a plan that sets them on its brokers
BROKER_NAMES = {"retention.ms": "log.retention.ms", "retention.bytes": "log.retention.bytes",
                "segment.bytes": "log.segment.bytes", "segment.ms": "log.roll.ms",
                "file.delete.delay.ms": "log.segment.delete.delay.ms", "cleanup.policy": "log.cleanup.policy"}
FLAT = 0.2  # after the break, growth at most this share of the growth rate counts as a plateau
MAX_POINTS, MAX_BREAKS = 3000, 200  # the hinge fit's resolution: enough for a day at 5 s samples


@dataclass(frozen=True)
class Retention:
    """What decides a topic's size on disk, and where it was read."""

    retention_s: float | None  # None: unlimited (-1)
    retention_bytes: int | None  # per partition; None: unlimited (-1)
    segment_bytes: int
    segment_s: float
    delete_delay_s: float
    check_interval_s: float
    cleanup_policy: str
    partitions: int
    replication_factor: int
    source: str  # "cluster" or "plan"

    @property
    def deletes(self) -> bool:
        return "delete" in self.cleanup_policy and (self.retention_s is not None or self.retention_bytes is not None)

    def describe(self) -> str:
        limits = ([format_duration(self.retention_s)] if self.retention_s is not None else []) + \
                 ([f"{format_size(self.retention_bytes, binary=True)} per partition"] if self.retention_bytes is not None else [])
        return " or ".join(limits) if limits else "unlimited"

    def segment(self, rate: float) -> float:
        """How big a segment gets before it rolls, at ``rate`` bytes/s into one partition replica."""
        return min(float(self.segment_bytes), rate * self.segment_s) if rate > 0 else float(self.segment_bytes)

    def peak_per_replica(self, rate: float, retention_s: float | None = None) -> float | None:
        """The most one partition replica holds at steady state (None: retention never deletes).
        ``retention_s`` replaces the topic's time limit (the one-week projection)."""
        horizon = self.retention_s if retention_s is None else retention_s
        if "delete" not in self.cleanup_policy or (horizon is None and self.retention_bytes is None):
            return None
        segment = self.segment(rate)
        bounds = []
        if horizon is not None:
            bounds.append(rate * (horizon + self.check_interval_s) + segment)
        if self.retention_bytes is not None:
            bounds.append(self.retention_bytes + segment + rate * self.check_interval_s)
        waiting = math.ceil(rate * self.delete_delay_s / segment) * segment if rate > 0 and self.delete_delay_s > 0 else 0.0
        return min(bounds) + waiting

    def first_deletion_s(self, rate: float) -> float | None:
        """Seconds of writing at ``rate`` before retention can first delete a segment."""
        if not self.deletes or rate <= 0:
            return None
        segment = self.segment(rate)
        due = []
        if self.retention_s is not None:
            due.append(segment / rate + self.retention_s)
        if self.retention_bytes is not None:
            due.append((self.retention_bytes + segment) / rate)
        return min(due) + self.check_interval_s


def _number(configs: dict[str, str], key: str) -> float:
    return float(configs[key])


def _plan_configs(topic: Topic, plan: Plan) -> dict[str, str]:
    """The topic's settings as the plan gives them: the topic's own, then its brokers' properties."""
    broker = dict(plan.target.properties) if isinstance(plan.target, LocalTarget) else \
        dict(plan.provision.properties) if plan.provision is not None else {}
    out = dict(KAFKA_DEFAULTS)
    for name, broker_name in BROKER_NAMES.items():
        if broker_name in broker:
            out[name] = str(broker[broker_name])
    # Kafka's precedence: log.retention.ms over .minutes over .hours
    for name, unit in (("log.retention.hours", 3_600_000), ("log.retention.minutes", 60_000)):
        if name in broker and "log.retention.ms" not in broker:
            out["retention.ms"] = str(int(float(broker[name]) * unit))
    if "log.retention.check.interval.ms" in broker:
        out["log.retention.check.interval.ms"] = str(broker["log.retention.check.interval.ms"])
    out.update(topic.kafka_configs())
    return out


def resolve_retention(topic: Topic, plan: Plan, cluster: ClusterFacts) -> Retention:
    """The topic's effective settings: as the cluster reported them during the run, else the plan's."""
    planned = _plan_configs(topic, plan)
    reported = cluster.topic_configs.get(topic.name)
    configs = {**planned, **reported} if reported else planned
    checks = [float(c["log.retention.check.interval.ms"]) for c in cluster.broker_configs.values()
              if "log.retention.check.interval.ms" in c]
    check_ms = max(checks) if checks else _number(planned, "log.retention.check.interval.ms")
    layout = cluster.topics.get(topic.name)
    retention_ms, retention_bytes = _number(configs, "retention.ms"), _number(configs, "retention.bytes")
    return Retention(
        retention_s=retention_ms / 1000.0 if retention_ms >= 0 else None,
        retention_bytes=int(retention_bytes) if retention_bytes >= 0 else None,
        segment_bytes=int(_number(configs, "segment.bytes")), segment_s=_number(configs, "segment.ms") / 1000.0,
        delete_delay_s=_number(configs, "file.delete.delay.ms") / 1000.0, check_interval_s=check_ms / 1000.0,
        cleanup_policy=configs["cleanup.policy"],
        partitions=layout.partitions if layout else topic.partitions,
        replication_factor=layout.replication_factor if layout else topic.replication_factor,
        source="cluster" if reported else "plan")


# --------------------------------------------------------------------------- growth


@dataclass(frozen=True)
class GrowthFit:
    """The log's growth: the stretch it grew over, its rate there, and whether it then stayed flat."""

    start: float  # epoch seconds of the growth window
    end: float
    bytes_per_s: float
    plateau: bool  # stopped growing while the producers still wrote
    last: float  # epoch second of the last size in the fit
    final_bytes_per_s: float  # after the break (plateau), else over the growth window


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    if len(t) < 2 or np.ptp(t) == 0:
        return 0.0
    return float(np.polyfit(t - t[0], y, 1)[0])


def _thinned(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(t) <= MAX_POINTS:
        return t, y
    keep = np.linspace(0, len(t) - 1, MAX_POINTS).round().astype(int)
    return t[keep], y[keep]


def _hinge_break(t: np.ndarray, y: np.ndarray) -> float:
    """The time c that best fits y = a + b * min(t, c): growth until c, flat after it. The last
    time means no break: one straight line fits best."""
    tt, yy = _thinned(t, y)
    breaks = np.array([tt[-1]])  # no break: one straight line
    if len(tt) > 5:  # a break leaves at least two sizes on either side
        picks = np.linspace(2, len(tt) - 3, min(MAX_BREAKS, len(tt) - 4)).round().astype(int)
        breaks = np.append(np.unique(tt[picks]), tt[-1])
    x = np.minimum(tt[None, :], breaks[:, None])
    xc = x - x.mean(axis=1, keepdims=True)
    yc = yy - yy.mean()
    sxx, sxy = (xc * xc).sum(axis=1), (xc * yc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = np.where(sxx > 0, (yc * yc).sum() - sxy * sxy / sxx, np.inf)
    return float(breaks[int(np.argmin(sse))])


def fit_growth(times: list[float], sizes: list[float], measured_from: float | None = None) -> GrowthFit | None:
    """Where and how fast ``sizes`` grew; ``measured_from`` (the end of warm-up) starts the growth
    window when enough of the growth lies after it. None with fewer than two sizes."""
    if len(times) < 2:
        return None
    t, y = np.asarray(times, dtype=float), np.asarray(sizes, dtype=float)
    cut = _hinge_break(t, y)
    pre, post = t <= cut, t > cut
    rising = _slope(t[pre], y[pre])
    flat = (post.sum() >= 3 and t[-1] - cut >= 0.1 * (t[-1] - t[0]) and rising > 0
            and _slope(t[post], y[post]) <= FLAT * rising)
    growing = pre if flat else np.ones_like(t, dtype=bool)
    if measured_from is not None and ((t >= measured_from) & growing).sum() >= 3:
        growing &= t >= measured_from
    tg, yg = t[growing], y[growing]
    rate = _slope(tg, yg)
    return GrowthFit(float(tg[0]), float(tg[-1]), rate, bool(flat), float(t[-1]),
                     _slope(t[post], y[post]) if flat else rate)


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class TopicDisk:
    topic: str
    retention: Retention
    fit: GrowthFit | None  # None: no log-dir sizes for the topic
    payload_bytes_per_s: float | None  # what its producers sent over the growth window
    peak_per_replica_bytes: float | None  # steady state; None: retention never deletes
    week_peak_per_replica_bytes: float | None  # the same with a week of time retention
    first_deletion_at: float | None  # epoch second retention could first delete (writes began + due)
    plateau_bytes: float | None  # largest size (all replicas) after the log stopped growing

    @property
    def disk_bytes_per_s(self) -> float | None:
        return self.fit.bytes_per_s if self.fit else None

    @property
    def ratio(self) -> float | None:
        """Bytes on disk (all replicas) per payload byte."""
        if self.disk_bytes_per_s is None or not self.payload_bytes_per_s:
            return None
        return self.disk_bytes_per_s / self.payload_bytes_per_s

    @property
    def replica_rate(self) -> float:
        """Bytes/s into one partition replica."""
        return replica_rate(self.fit, self.retention)

    @property
    def cleanup(self) -> str:
        """keeps up | did not keep up | not shown (the run ended before retention could delete) | unknown."""
        if self.fit is None or not self.retention.deletes:
            return "unknown"
        if self.fit.plateau:
            return "keeps up"
        if self.first_deletion_at is not None and self.fit.last > self.first_deletion_at + self.retention.delete_delay_s:
            return "did not keep up"
        return "not shown"


def replica_rate(fit: GrowthFit | None, retention: Retention) -> float:
    """Bytes/s into one partition replica: the topic's disk rate over all its replicas."""
    growth = max(0.0, fit.bytes_per_s) if fit else 0.0
    return growth / (retention.partitions * retention.replication_factor)


@dataclass(frozen=True)
class BrokerDisk:
    broker: str
    current_bytes: float | None  # the plan topics' bytes in its log dirs at the last sample
    peak_bytes: float | None
    growth_bytes_per_s: float  # its share of the topics' measured disk rate
    needs_bytes: float | None  # at steady state under each topic's retention; None: unbounded
    week_needs_bytes: float | None
    free_bytes: float | None  # of the disk(s) it writes to, shared with ``shares_with``
    shares_with: tuple[str, ...]
    fits: bool | None  # None: free space unknown
    fills_in_s: float | None  # at its growth, when it does not fit


@dataclass(frozen=True)
class DiskProjection:
    topics: list[TopicDisk]
    brokers: list[BrokerDisk]
    segments_deleted: int | None  # over the listed brokers
    log_dirs_source: str
    free_source: str  # where free space came from

    @property
    def sizes_from(self) -> str:
        """Where the log-dir sizes came from, in words."""
        names = {"local": "listing the brokers' log dirs", "describeLogDirs": "Kafka's DescribeLogDirs"}
        found = [names.get(s, s) for s in self.log_dirs_source.split("+") if s != "none"]
        return " and ".join(found) or "nowhere"

    @property
    def fits(self) -> bool | None:
        verdicts = [b.fits for b in self.brokers]
        if False in verdicts:
            return False
        return True if verdicts and all(verdicts) else None


def _points(series: list[list[float | None]], start: int, until: int | None) -> tuple[list[float], list[float]]:
    """(seconds, summed sizes) where any of ``series`` has a sample; a series between its samples
    (or while its broker is down) counts with its last size."""
    last = [0.0] * len(series)
    times, sums = [], []
    for i, column in enumerate(zip(*series)):
        if until is not None and start + i > until:
            break
        if all(v is None for v in column):
            continue
        last = [v if v is not None else prev for v, prev in zip(column, last)]
        times.append(float(start + i))
        sums.append(sum(last))
    return times, sums


def _writers(plan: Plan, topic: str) -> list[str]:
    return [w.name for w in plan.workloads if isinstance(w, ProducerWorkload) and w.topic == topic]


def _payload(timeline: Timeline, writers: list[str], lo: float, hi: float) -> float | None:
    """Payload bytes/s the writers sent over [lo, hi]; None without throughput series."""
    found = [s for w in writers for s in timeline.select("produce.throughput_mb", workload=w).values()]
    if not found or hi <= lo:
        return None
    a, b = max(0, int(lo) - timeline.start), min(timeline.length, int(hi) - timeline.start)
    return sum(v or 0.0 for s in found for v in s[a:b]) * 1e6 / (hi - lo)


def _last_write(timeline: Timeline, writers: list[str]) -> int | None:
    """The last second the writers sent anything: later sizes say nothing about clean-up under load."""
    seconds = [timeline.start + i for w in writers for s in timeline.select("produce.throughput_mb", workload=w).values()
               for i, v in enumerate(s) if v]
    return max(seconds) if seconds else None


def _topic_series(timeline: Timeline, topic: str) -> dict[str, list[float | None]]:
    return {k.host or "": v for k, v in timeline.select("broker.log_dir_bytes", label=topic).items()}


def _topic(plan: Plan, topic: Topic, timeline: Timeline, window: Window, cluster: ClusterFacts) -> TopicDisk:
    retention = resolve_retention(topic, plan, cluster)
    writers = _writers(plan, topic.name)
    per_broker = _topic_series(timeline, topic.name)
    last_write = _last_write(timeline, writers)
    times, sizes = _points(list(per_broker.values()), timeline.start, last_write)
    measured_from = window.spans[0][0] if window.spans else None
    fit = fit_growth(times, sizes, measured_from)
    payload = _payload(timeline, writers, fit.start, fit.end) if fit else None
    rate = replica_rate(fit, retention)
    first = retention.first_deletion_s(rate)
    began = times[0] if times else None
    plateau = max(s for t, s in zip(times, sizes) if t > fit.end) if fit and fit.plateau else None
    return TopicDisk(topic.name, retention, fit, payload, retention.peak_per_replica(rate),
                     retention.peak_per_replica(rate, WEEK_S), began + first if began is not None and first is not None else None,
                     plateau)


def _broker_ids(timeline: Timeline, cluster: ClusterFacts) -> list[str]:
    ids = {k.host for k in timeline.select("broker.log_dir_bytes") if k.host}
    ids |= {b for layout in cluster.topics.values() for b in layout.replicas}
    return sorted(ids, key=lambda b: (len(b), b))


def _replicas_on(topic: TopicDisk, broker: str, brokers: int, cluster: ClusterFacts) -> float:
    """Replicas of the topic the broker holds: as the cluster placed them, else spread evenly."""
    layout = cluster.topics.get(topic.topic)
    if layout is not None:
        return float(layout.replicas.get(broker, 0))
    r = topic.retention
    return r.partitions * r.replication_factor / max(brokers, r.replication_factor)


def _last(values: list[float | None]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def _free_by_disk(timeline: Timeline) -> dict[str, dict[str, float]]:
    """broker -> disk key -> usable bytes at its last sample."""
    out: dict[str, dict[str, float]] = {}
    for key, series in timeline.select("broker.log_dir_free_bytes").items():
        if key.host and (value := _last(series)) is not None:
            out.setdefault(key.host, {})[key.device or key.host] = value
    return out


def _disk_groups(brokers: list[str], disks: dict[str, dict[str, float]]) -> list[list[str]]:
    """Brokers that write to a common disk (the loopback cluster: all of them on one)."""
    groups: list[tuple[set[str], set[str]]] = []
    for broker in brokers:
        keys = {k for k in disks.get(broker, {}) if k.startswith("dev:")}
        joined = [g for g in groups if g[1] & keys]
        members, shared = {broker}, set(keys)
        for g in joined:
            members |= g[0]
            shared |= g[1]
            groups.remove(g)
        groups.append((members, shared))
    return [sorted(m, key=lambda b: (len(b), b)) for m, _ in groups]


@dataclass(frozen=True)
class _Load:
    """What one broker holds and takes on, before its disk is known."""

    current: float | None
    peak: float | None
    growth: float
    needs: float | None
    week: float | None


def _load(broker: str, topics: list[TopicDisk], brokers: int, sizes: list[float | None],
          cluster: ClusterFacts) -> _Load:
    held = [(t, n) for t in topics if (n := _replicas_on(t, broker, brokers, cluster))]
    peaks = [t.peak_per_replica_bytes for t, _ in held]
    weeks = [t.week_peak_per_replica_bytes for t, _ in held]
    return _Load(current=_last(sizes), peak=max((v for v in sizes if v is not None), default=None),
                 growth=sum(t.replica_rate * n for t, n in held),
                 needs=None if None in peaks else sum(p * n for p, (_, n) in zip(peaks, held)),
                 week=None if None in weeks else sum(w * n for w, (_, n) in zip(weeks, held)))


def _brokers(topics: list[TopicDisk], timeline: Timeline, cluster: ClusterFacts,
             local_free_bytes: float | None) -> list[BrokerDisk]:
    ids = _broker_ids(timeline, cluster)
    disks = _free_by_disk(timeline)
    totals = {k.host: v for k, v in timeline.select("broker.log_dir_bytes", label=None).items() if k.host}
    loads = {b: _load(b, topics, len(ids), totals.get(b, []), cluster) for b in ids}
    out = []
    for group in _disk_groups(ids, disks):
        space = {k: v for b in group for k, v in disks.get(b, {}).items()}
        free = sum(space.values()) if space else (local_free_bytes if len(ids) == 1 else None)
        growth = sum(loads[b].growth for b in group)
        unbounded = any(loads[b].needs is None for b in group) and growth > 0
        more = sum(max(0.0, (loads[b].needs or 0.0) - (loads[b].current or 0.0)) for b in group)
        fits = None if free is None else (not unbounded and more <= free)
        fills = free / growth if fits is False and growth > 0 and free is not None else None
        for b in group:
            load = loads[b]
            out.append(BrokerDisk(b, load.current, load.peak, load.growth, load.needs, load.week, free,
                                  tuple(x for x in group if x != b), fits, fills))
    return sorted(out, key=lambda b: (len(b.broker), b.broker))


def _segments_deleted(timeline: Timeline) -> int | None:
    found = [_last(s) for s in timeline.select("broker.segments_deleted").values()]
    found = [v for v in found if v is not None]
    return int(sum(found)) if found else None


def project_disk(plan: Plan, timeline: Timeline, window: Window, cluster: ClusterFacts,
                 local_free_bytes: float | None = None) -> DiskProjection:
    """``local_free_bytes``: free space under a local broker's data dir, for a single broker that
    reported none."""
    topics = [_topic(plan, t, timeline, window, cluster) for t in plan.topics]
    brokers = _brokers(topics, timeline, cluster, local_free_bytes)
    sources = "+".join(sorted(cluster.log_dirs_sources)) or "none"
    free = ("the brokers' log dirs" if timeline.select("broker.log_dir_free_bytes") else
            "the local broker's data disk" if local_free_bytes is not None else "unknown")
    return DiskProjection(topics, brokers, _segments_deleted(timeline), sources, free)


# --------------------------------------------------------------------------- formatting


def format_size(value: float, binary: bool = False) -> str:
    """3 significant digits: '356 MB', '9.7 TB'; ``binary``: powers of 1024 ('256 MiB')."""
    step, units = (1024.0, ("B", "KiB", "MiB", "GiB", "TiB", "PiB")) if binary else (1000.0, ("B", "kB", "MB", "GB", "TB", "PB"))
    for unit in units:
        if abs(value) < step * 0.9995 or unit == units[-1]:
            return f"{value:.3g} {unit}" if unit != "B" else f"{value:.0f} B"
        value /= step
    raise AssertionError("unreachable")


def format_elapsed(seconds: float) -> str:
    """'45s', '6m10s', '1h1m40s'; from two hours on in hours, from a day on in days."""
    if seconds >= 86400:
        return f"{seconds / 86400:.3g} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.3g} hours"
    whole = max(0, round(seconds))
    parts = [(whole // 3600, "h"), (whole % 3600 // 60, "m"), (whole % 60, "s")]
    text = "".join(f"{n}{u}" for n, u in parts if n)
    return text or "0s"
