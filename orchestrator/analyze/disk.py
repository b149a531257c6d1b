"""Question ``disk``: how fast does disk fill, how much is needed, and does clean-up keep up?

A plan asks it when one of its topics sets a retention (time or bytes) or an SLO watches
``broker.log_dir_bytes``. The answer is the disk projection (``orchestrator.analyze.retention``)
in one sentence, for example

    At 10.5 MB/s on disk (RF 1; clients sent 10.2 MB/s, 1.02x), retention of 5m or 256 MiB per
    partition (read from the cluster) needs 2.17 GB per broker; broker 0 has 81.6 GB free: fits.
    Clean-up keeps up: log size plateaued at 1.96 GB after 2m56s; 172 segments deleted.

Its value is the most any broker needs at steady state (bytes), its verdict ``fits`` or
``does not fit`` (raising the report's alarm), none when free space is unknown.
"""

from __future__ import annotations

from orchestrator.analyze.answers import AnalysisInput, QuestionAnalysis, register
from orchestrator.analyze.retention import (BrokerDisk, DiskProjection, TopicDisk, format_elapsed, format_size,
                                            project_disk)
from orchestrator.plan.models import Plan
from orchestrator.summary import Answer, AnswerWindow

LOG_DIR_METRICS = ("broker.log_dir_bytes",)


def projection(data: AnalysisInput) -> DiskProjection:
    return project_disk(data.plan, data.measured.timeline, data.window, data.cluster, data.local_free_bytes)


def _brokers_text(brokers: list[str]) -> str:
    return f"broker {brokers[0]}" if len(brokers) == 1 else f"brokers {', '.join(brokers)}"


def _rate_clause(topics: list[TopicDisk]) -> str:
    disk = sum(t.disk_bytes_per_s or 0.0 for t in topics)
    factors = sorted({t.retention.replication_factor for t in topics})
    rf = "/".join(str(f) for f in factors)
    payloads = [t.payload_bytes_per_s for t in topics]
    clause = f"At {format_size(disk)}/s on disk (RF {rf}"
    if all(p for p in payloads):
        sent = sum(payloads)
        clause += f"; clients sent {format_size(sent)}/s, {disk / sent:.3g}x"
    return clause + ")"


def _retention_clause(topics: list[TopicDisk]) -> str:
    if len(topics) == 1:
        r = topics[0].retention
        where = "read from the cluster" if r.source == "cluster" else "from the plan"
        return f"retention of {r.describe()} ({where})"
    where = {t.retention.source for t in topics}
    return f"the topics' retention ({'read from the cluster' if where == {'cluster'} else 'from the plan' if where == {'plan'} else 'from the cluster and the plan'})"


def _headline_broker(brokers: list[BrokerDisk]) -> BrokerDisk:
    """The broker the sentence names: the first to fill when some do not fit, else the tightest."""
    short = [b for b in brokers if b.fits is False]
    if short:
        return min(short, key=lambda b: b.fills_in_s if b.fills_in_s is not None else float("inf"))
    known = [b for b in brokers if b.free_bytes is not None and b.needs_bytes is not None]
    if known:
        return min(known, key=lambda b: b.free_bytes - b.needs_bytes)
    return max(brokers, key=lambda b: b.needs_bytes or 0.0)


def _fit_clause(disk: DiskProjection) -> str:
    worst = max((b.needs_bytes for b in disk.brokers if b.needs_bytes is not None), default=None)
    unbounded = any(b.needs_bytes is None for b in disk.brokers)
    need = "grows without bound (no retention limit)" if unbounded else f"needs {format_size(worst or 0.0)} per broker"
    b = _headline_broker(disk.brokers)
    who = _brokers_text([b.broker, *b.shares_with])
    if b.free_bytes is None:
        return f"{need}; free space unknown (no broker reported it)"
    has = f"{who} {'has' if not b.shares_with else 'share a disk with'} {format_size(b.free_bytes)} free"
    if b.fits:
        return f"{need}; {has}: fits"
    fills = f" and fills in {format_elapsed(b.fills_in_s)}" if b.fills_in_s is not None else ""
    return f"{need}; {has}{fills}: does not fit"


def _cleanup_sentence(topics: list[TopicDisk], disk: DiskProjection, start: float) -> str:
    deleted = f"; {disk.segments_deleted} segments deleted" if disk.segments_deleted is not None else ""
    named = (lambda t: f" on {t.topic}") if len(topics) > 1 else (lambda t: "")
    parts = []
    for t in topics:
        fit, status = t.fit, t.cleanup
        if fit is None:
            continue
        if status == "keeps up":
            largest = max((b.peak_bytes or 0.0) for b in disk.brokers) if len(disk.brokers) > 1 else None
            level = format_size(t.plateau_bytes if largest is None else largest)
            whose = "" if largest is None else " (largest broker)"
            parts.append(f"Clean-up keeps up{named(t)}: log size plateaued at {level}{whose} "
                         f"after {format_elapsed(fit.end - start)}")
        elif status == "did not keep up":
            late = format_elapsed(fit.last - t.first_deletion_at)
            parts.append(f"Clean-up did not keep up{named(t)}: the log still grew {format_size(fit.final_bytes_per_s)}/s "
                         f"at the end, {late} after retention was due to delete")
        elif status == "not shown":
            due = format_elapsed(t.first_deletion_at - fit.start) if t.first_deletion_at is not None else "never"
            parts.append(f"Clean-up not shown{named(t)}: the run ended before retention could delete "
                         f"(first deletion due {due} after writes began)")
    if not parts:
        return ""
    return "; ".join(parts) + (deleted if any("keeps up" in p or "did not" in p for p in parts) else "") + "."


def _inputs(disk: DiskProjection) -> dict[str, str | float | int | bool | None]:
    out: dict[str, str | float | int | bool | None] = {
        "log_dirs_source": disk.log_dirs_source, "free_space_source": disk.free_source,
        "segments_deleted": disk.segments_deleted}
    for t in disk.topics:
        prefix = "" if len(disk.topics) == 1 else f"{t.topic}."
        r = t.retention
        out.update({f"{prefix}{k}": v for k, v in {
            "disk_bytes_per_s": t.disk_bytes_per_s, "payload_bytes_per_s": t.payload_bytes_per_s,
            "disk_to_payload": t.ratio,
            "per_replica_to_payload": t.ratio / r.replication_factor if t.ratio is not None else None,
            "retention_source": r.source, "retention_ms": r.retention_s * 1000 if r.retention_s is not None else -1,
            "retention_bytes": r.retention_bytes if r.retention_bytes is not None else -1,
            "segment_bytes": r.segment_bytes, "segment_ms": r.segment_s * 1000, "cleanup_policy": r.cleanup_policy,
            "replication_factor": r.replication_factor, "partitions": r.partitions,
            "retention_check_interval_ms": r.check_interval_s * 1000, "file_delete_delay_ms": r.delete_delay_s * 1000,
            "peak_per_replica_bytes": t.peak_per_replica_bytes, "cleanup": t.cleanup,
            "plateau_bytes": t.plateau_bytes, "growth_stopped": t.fit.plateau if t.fit else None,
        }.items()})
    return out


def _rows(disk: DiskProjection) -> list[dict[str, str | float | int | bool | None]]:
    return [{"broker": b.broker, "log_dirs_now_GB": _gb(b.current_bytes), "peak_GB": _gb(b.peak_bytes),
             "needs_GB": _gb(b.needs_bytes), "free_GB": _gb(b.free_bytes),
             "shares_disk_with": ", ".join(b.shares_with) or None,
             "fills_in_days": b.fills_in_s / 86400 if b.fills_in_s is not None else None, "fits": b.fits}
            for b in disk.brokers]


def _gb(value: float | None) -> float | None:
    return value / 1e9 if value is not None else None


def _windows(topics: list[TopicDisk]) -> list[AnswerWindow]:
    out = []
    for t in topics:
        if t.fit is None:
            continue
        named = f" ({t.topic})" if len(topics) > 1 else ""
        out.append(AnswerWindow(label=f"growth fit{named}", start=t.fit.start, end=t.fit.end))
        if t.fit.plateau:
            out.append(AnswerWindow(label=f"plateau{named}", start=t.fit.end, end=t.fit.last))
    return out


@register
class DiskAnalysis(QuestionAnalysis):
    question = "disk"

    def applies(self, plan: Plan) -> bool:
        return (any(t.retention is not None or t.retention_bytes is not None for t in plan.topics)
                or any(s.metric in LOG_DIR_METRICS for s in plan.slos))

    def answer(self, data: AnalysisInput) -> Answer:
        disk = projection(data)
        measured = [t for t in disk.topics if t.fit is not None and t.fit.bytes_per_s > 0]
        if not measured or not disk.brokers:
            why = ("no log-dir sizes were recorded" if not any(t.fit for t in disk.topics)
                   else "the topics' log dirs did not grow")
            return Answer(question="disk", sentence=f"Disk not projected: {why} (log-dir source: {disk.log_dirs_source}).",
                          answered=False, inputs=_inputs(disk), section="projection")
        # elapsed times count from the first phase, as the report's do
        start = min((p.start for p in data.measured.phases), default=float(data.measured.timeline.start))
        sentence = f"{_rate_clause(measured)}, {_retention_clause(measured)} {_fit_clause(disk)}."
        if cleanup := _cleanup_sentence(measured, disk, start):
            sentence += " " + cleanup
        fits = disk.fits
        worst = max((b.needs_bytes for b in disk.brokers if b.needs_bytes is not None), default=None)
        return Answer(question="disk", sentence=sentence, value=worst, unit="B",
                      verdict=None if fits is None else "fits" if fits else "does not fit", alarm=fits is False,
                      windows=_windows(measured), inputs=_inputs(disk), rows=_rows(disk), section="projection")
