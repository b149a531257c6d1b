"""results/hlog/WORKLOAD.KIND.hlog: each workload's latency histograms as HdrHistogram interval
logs, so HdrHistogram's own tools (HistogramLogProcessor, HistogramLogAnalyzer, hdr-plot) read them.

One interval histogram per ``period_s`` (10 s, as OMB's series, longer for long runs) over the whole
run, warm-up included (the log has the timestamps; a reader picks the span). Values are in
microseconds, as is the log's Interval_Max column. Our histograms have the same resolution as an
HdrHistogram with 2 significant digits (which splits each power of two twice as finely), so each
of our buckets is recorded at its lowest value and the percentiles read back are ours to within a
bucket.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogWriter

from orchestrator.analyze.slo import Measured
from orchestrator.analyze.window import whole_timeline
from orchestrator.report.omb import period_s
from orchestrator.runner.histogram import BUCKETS, MAX_VALUE_US, Histogram, bucket_bounds

KINDS = ("publish_latency", "publish_delay", "corrected_latency", "e2e_latency", "elapsed")


@cache
def _hdr_index() -> np.ndarray:
    """For each of our buckets, the counts index of its lowest value in an HdrHistogram(1, max, 2)."""
    probe = HdrHistogram(1, MAX_VALUE_US, 2)
    return np.array([probe.get_counts_array_index(bucket_bounds(i)[0]) for i in range(BUCKETS)], dtype=np.int64)


def _fill(hdr: HdrHistogram, h: Histogram) -> HdrHistogram:
    """``h`` into the (reset) ``hdr``: counts written straight into its array (its record_value is
    pure Python, one call per bucket, most of a day-long run's time)."""
    hdr.reset()
    ours = np.asarray(h.counts, dtype=np.int64)
    present = np.flatnonzero(ours)
    index = _hdr_index()[present]
    np.ctypeslib.as_array(hdr.counts)[index] = ours[present]
    hdr.set_internal_tacking_values(int(index[0]), int(index[-1]), int(h.count))
    return hdr


def write_hlogs(measured: Measured, directory: Path) -> list[Path]:
    """One log per workload and latency kind that has samples; returns the files written."""
    tl = measured.timeline
    if not tl.length:
        return []
    start, end = float(tl.start), float(tl.start + tl.length)
    step = period_s(whole_timeline(tl))
    written = []
    for workload in measured.workloads:
        for kind in KINDS:
            whole = measured.histogram(kind, workload.name, start, end)
            if whole is None or not whole.count:
                continue
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{workload.name}.{kind}.hlog"
            with path.open("w", encoding="ascii") as stream:
                writer = HistogramLogWriter(stream)
                writer.output_comment(f"orchestrate: {kind} of workload {workload.name}, microseconds, {step} s intervals")
                writer.output_log_format_version()
                # (hdrh's own output_start_time fails on a millisecond timestamp)
                stamp = datetime.fromtimestamp(start, timezone.utc).isoformat(" ")
                writer.output_comment(f"[StartTime: {start:.3f} (seconds since epoch), {stamp}]")
                writer.output_base_time(start * 1000)
                writer.base_time = start * 1000  # intervals are logged relative to it
                writer.output_legend()
                hdr, t = HdrHistogram(1, MAX_VALUE_US, 2), start
                while t < end:
                    h = measured.histogram(kind, workload.name, t, min(t + step, end))
                    if h is not None and h.count:
                        _fill(hdr, h)
                        # stamped on the histogram: hdrh takes an explicit start of 0.0 for "none given"
                        hdr.set_start_time_stamp(t * 1000)
                        hdr.set_end_time_stamp(min(t + step, end) * 1000)
                        writer.output_interval_histogram(hdr, max_value_unit_ratio=1.0)
                    t += step
            written.append(path)
    return written
