"""The workload table's figures over the measured window, as SLOs judge them: every phase but
warm-ups, so that a consumer's rate is not diluted by its join and its drain, nor a producer's by
its warm-up. Rates, latency percentiles and peak lags are measured there; counts (messages, bytes,
errors, duration) and the sequence audit (lost, duplicated, out of order) cover the whole run, as a
message is lost or not whichever phase it was sent in. ``windows`` names each figure's window.
JMeter workloads have no per-second byte series: their rates stay whole-run ones, and say so.
"""

from __future__ import annotations

from orchestrator.analyze.slo import Measured, merged_histogram, observe
from orchestrator.analyze.window import Window
from orchestrator.collect.collector import latency_stats
from orchestrator.plan.metrics import spec
from orchestrator.summary import LatencyStats, Throughput, WorkloadSummary

MEASURED, WHOLE_RUN = "measured", "whole run"
_WHOLE_RUN_FIGURES = ("messages", "bytes", "errors", "duration_s", "lost", "duplicated", "out_of_order")
_FAMILY = {"producer": "produce", "consumer": "consume"}


def measured_figures(w: WorkloadSummary, measured: Measured, window: Window) -> WorkloadSummary:
    windows = dict.fromkeys(_WHOLE_RUN_FIGURES, WHOLE_RUN)
    update: dict[str, object] = {"windows": windows}
    if not window.seconds:
        return w.model_copy(update={"windows": {**windows, "throughput": WHOLE_RUN, "latency_ms": WHOLE_RUN}})
    family = _FAMILY.get(w.kind) if w.engine == "native" else None
    if family is not None:
        rate = observe(measured, spec(f"{family}.rate"), w.name, window, whole_run=False)
        mb = observe(measured, spec(f"{family}.throughput_mb"), w.name, window, whole_run=False)
        update["throughput"] = Throughput(msgs_per_s=rate or 0.0, mb_per_s=mb or 0.0, window=MEASURED, window_s=window.seconds)
    windows["throughput"] = MEASURED if family is not None else WHOLE_RUN
    update["latency_ms"] = {kind: _latency(measured, kind, w.name, window) for kind in w.latency_ms}
    windows["latency_ms"] = MEASURED
    if w.kind == "consumer" and w.engine == "native":
        for field, metric in (("max_position_lag", "consume.position_lag"), ("max_committed_lag", "consume.committed_lag")):
            peak = observe(measured, spec(metric), w.name, window, whole_run=False)
            update[field] = None if peak is None else int(peak)
            windows[field] = MEASURED
    return w.model_copy(update=update)


def _latency(measured: Measured, kind: str, workload: str, window: Window) -> LatencyStats:
    merged = merged_histogram(measured, kind, workload, window)
    return latency_stats(merged) if merged is not None else LatencyStats()
