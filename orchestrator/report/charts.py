"""Charts for the HTML report: matplotlib (Agg) figures embedded as base64 SVG data URIs, so the
page is one self-contained file and each chart's SVG ids stay private to it.

Long series are downsampled to at most ``MAX_POINTS`` buckets: the line is the bucket mean and a
shaded envelope spans the bucket's min and max, so a one-second spike in a 24-hour run stays
visible. Every time chart shows the run's phases (shaded spans), the judged window of each step or
search probe (light blue), and faults and breaches (red).

Time charts also carry their data (``interactive_data``, at up to ``INTERACTIVE_POINTS`` buckets:
per second for runs up to about an hour) for the page's interactive charts; the SVG stays as the
printed and no-script version.
"""

from __future__ import annotations

import base64
import io
import multiprocessing
import os
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogFormatter, NullLocator  # noqa: E402

MAX_POINTS = 600
INTERACTIVE_POINTS = 3600
BRIDGE_S = 10
WIDTH_IN = 11.0
PANEL_IN, MARGIN_TOP_IN, MARGIN_BOTTOM_IN, SPECTRUM_IN = 2.3, 0.3, 0.6, 3.2
# the legend column is as wide as its longest name (8 pt text: about 0.062 in a character, plus the
# line sample), within bounds; a longer name wraps instead of being cut off at the page edge
LEGEND_CHAR_IN, LEGEND_PAD_IN, LEGEND_MIN_IN, LEGEND_MAX_CHARS = 0.062, 0.55, 1.2, 52
SPECTRUM_TICKS = [(1.0, "0"), (2.0, "50"), (10.0, "90"), (100.0, "99"), (1e3, "99.9"), (1e4, "99.99"),
                  (1e5, "99.999"), (1e6, "99.9999")]
PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#db2777", "#4b5563", "#65a30d"]
plt.rcParams.update({
    "svg.fonttype": "none", "svg.hashsalt": "orchestrate", "axes.titley": 1.0,  # no auto title placement (slow)
    "font.size": 9, "axes.titlesize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "legend.fontsize": 8, "legend.frameon": False,
})


@dataclass(frozen=True)
class Line:
    label: str
    values: list[float | None]
    color: str | None = None  # default: the palette, in order
    dashed: bool = False


@dataclass(frozen=True)
class Span:
    label: str
    start: float  # seconds since the timeline's start
    end: float
    kind: str  # "phase", "step" (a step's or probe's judged window) or "fault"


@dataclass(frozen=True)
class Markers:
    spans: list[Span] = field(default_factory=list)
    instants: list[tuple[str, float]] = field(default_factory=list)  # breaches, aborts


@dataclass(frozen=True)
class Envelope:
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    reduced: bool


def _bridge(y: np.ndarray, max_gap: int = BRIDGE_S) -> np.ndarray:
    """Join samples up to ``max_gap`` seconds apart (monitors that sample every few seconds) by
    linear interpolation; longer gaps stay NaN and show as breaks in the line."""
    valid = np.flatnonzero(~np.isnan(y))
    if len(valid) < 2:
        return y
    index = np.arange(len(y))
    following = np.clip(np.searchsorted(valid, index), 1, len(valid) - 1)
    gap = valid[following] - valid[following - 1]
    inside = (index > valid[0]) & (index < valid[-1]) & (gap <= max_gap)
    return np.where(~np.isnan(y) | inside, np.interp(index, valid, y[valid]), np.nan)


def downsample(values: list[float | None], max_points: int = MAX_POINTS) -> Envelope:
    """Mean and min/max per bucket of equal width; missing seconds (None) are left out of a bucket,
    and a bucket with no data stays NaN so the line shows the gap."""
    y = _bridge(np.array([np.nan if v is None else v for v in values], dtype=float))
    n = len(y)
    if n <= max_points:
        x = np.arange(n, dtype=float)
        return Envelope(x, y, y, y, reduced=False)
    width = -(-n // max_points)
    padded = np.full(width * -(-n // width), np.nan)
    padded[:n] = y
    buckets = padded.reshape(-1, width)
    valid = ~np.isnan(buckets)
    counts = valid.sum(axis=1)
    sums = np.where(valid, buckets, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    low = np.where(counts > 0, np.where(valid, buckets, np.inf).min(axis=1), np.nan)
    high = np.where(counts > 0, np.where(valid, buckets, -np.inf).max(axis=1), np.nan)
    x = np.arange(len(buckets), dtype=float) * width + (width - 1) / 2.0
    return Envelope(x, mean, low, high, reduced=True)


def _elapsed(seconds: float, _pos: object = None) -> str:
    s = int(round(seconds))
    h, rem = divmod(abs(s), 3600)
    return f"{'-' if s < 0 else ''}{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{'-' if s < 0 else ''}{rem // 60}:{rem % 60:02d}"


def _draw_markers(ax: Axes, markers: Markers) -> None:
    phase_index = 0
    for span in markers.spans:
        if span.kind == "phase":
            ax.axvspan(span.start, span.end, color="#64748b", alpha=0.07 if phase_index % 2 else 0.0, lw=0)
            ax.axvline(span.start, color="#64748b", lw=0.6, ls=":")
            ax.annotate(span.label, (span.start, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -2),
                        textcoords="offset points", va="top", fontsize=7, color="#475569")
            phase_index += 1
        elif span.kind == "step":
            ax.axvspan(span.start, span.end, color="#3b82f6", alpha=0.06, lw=0)
            ax.annotate(span.label, (span.start, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -11),
                        textcoords="offset points", va="top", fontsize=6, color="#1d4ed8")
        else:
            ax.axvspan(span.start, span.end, color="#dc2626", alpha=0.12, lw=0)
            ax.annotate(span.label, (span.start, 0.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color="#b91c1c")
    for label, at in markers.instants:
        ax.axvline(at, color="#dc2626", lw=1.0, ls="--")
        ax.annotate(label, (at, 0.5), xycoords=("data", "axes fraction"), xytext=(3, 0),
                    textcoords="offset points", fontsize=7, color="#b91c1c", rotation=90, va="center")


@dataclass(frozen=True)
class Trace:
    """A line ready to draw: downsampled, so a chart is cheap to send to a worker process."""

    label: str
    color: str
    dashed: bool
    envelope: Envelope
    detail: Envelope  # at INTERACTIVE_POINTS, for the page's interactive chart


@dataclass(frozen=True)
class TimeChart:
    panels: list[tuple[str, str, list[Trace]]]  # title, y label, traces
    markers: Markers
    length: int
    log: bool


@dataclass(frozen=True)
class SpectrumChart:
    panels: list[tuple[str, list[tuple[str, list[float], list[float]]]]]  # title, (label, qs, ms)


Chart = TimeChart | SpectrumChart


def time_chart(panels: list[tuple[str, str, list[Line]]], markers: Markers, length: int,
               log: bool = False) -> TimeChart | None:
    """Stacked panels (title, y label, lines) sharing the elapsed-time axis; None when no line has data."""
    ready = []
    for title, ylabel, lines in panels:
        traces = []
        for i, line in enumerate(lines):
            env = downsample(line.values)
            if not np.all(np.isnan(env.mean)):
                traces.append(Trace(line.label, line.color or PALETTE[i % len(PALETTE)], line.dashed, env,
                                    downsample(line.values, INTERACTIVE_POINTS)))
        if traces:
            ready.append((title, ylabel, traces))
    return TimeChart(ready, markers, length, log) if ready else None


def _rounded(values: np.ndarray) -> list[float | None]:
    """4 significant figures and None for gaps: what a reader can see, at a third of the JSON."""
    return [None if np.isnan(v) else float(f"{v:.4g}") for v in values]


def interactive_data(chart: TimeChart) -> dict:
    """A time chart as JSON for the page's script: per panel a shared x (elapsed seconds) and one
    y list per trace (bucket means; ``bucket_s`` says how many seconds each point covers)."""
    panels = []
    for title, ylabel, traces in chart.panels:
        longest = max((t.detail for t in traces), key=lambda env: len(env.x))
        width = len(longest.x)
        def ys(env: Envelope) -> np.ndarray:
            padded = np.pad(env.mean, (0, width - len(env.mean)), constant_values=np.nan)
            return np.where(padded > 0, padded, np.nan) if chart.log else padded  # a log axis has no 0
        panels.append({"title": title, "ylabel": ylabel, "x": [float(v) for v in longest.x],
                       "bucket_s": int(longest.x[1] - longest.x[0]) if longest.reduced and width > 1 else 1,
                       "series": [{"label": t.label, "color": t.color, "dashed": t.dashed,
                                   "y": _rounded(ys(t.detail))} for t in traces]})
    return {"log": chart.log, "length": chart.length, "panels": panels,
            "spans": [{"label": s.label, "start": s.start, "end": s.end, "kind": s.kind} for s in chart.markers.spans],
            "instants": [{"label": label, "at": at} for label, at in chart.markers.instants]}


def spectrum_chart(panels: list[tuple[str, list[tuple[str, list[float], list[float]]]]]) -> SpectrumChart | None:
    """Latency by percentile, one panel per latency kind with data; None when no kind has data."""
    panels = [(title, curves) for title, curves in panels if any(c[2] for c in curves)]
    return SpectrumChart(panels) if panels else None


def _readable(value: float) -> str:
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


class _ReadableLog(LogFormatter):
    """LogFormatter's choice of which ticks to label (minor ones only over few decades), with
    labels like 0.1, 5, 20k instead of 1e-01 or 2e+04."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return _readable(x)


def _log_y(ax: Axes) -> None:
    """A log y axis labelled 5, 10, 20 … rather than 2×10⁰."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_ReadableLog())
    ax.yaxis.set_minor_formatter(_ReadableLog(labelOnlyBase=False, minor_thresholds=(1.5, 0.5)))


def _legend_label(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LEGEND_MAX_CHARS)) if len(label) > LEGEND_MAX_CHARS else label


def _legend_in(chart: TimeChart) -> float:
    longest = max((min(len(t.label), LEGEND_MAX_CHARS) for _, _, traces in chart.panels for t in traces), default=0)
    return max(LEGEND_MIN_IN, LEGEND_PAD_IN + LEGEND_CHAR_IN * longest)


def _draw_time(chart: TimeChart) -> plt.Figure:
    height = PANEL_IN * len(chart.panels) + MARGIN_TOP_IN + MARGIN_BOTTOM_IN
    fig, axes = plt.subplots(len(chart.panels), 1, figsize=(WIDTH_IN, height), sharex=True, squeeze=False)
    # fixed margins (inches) instead of a tight bounding box, which would draw everything twice
    fig.subplots_adjust(left=0.8 / WIDTH_IN, right=1 - _legend_in(chart) / WIDTH_IN, top=1 - MARGIN_TOP_IN / height,
                        bottom=MARGIN_BOTTOM_IN / height, hspace=0.45)
    for ax, (title, ylabel, traces) in zip(axes[:, 0], chart.panels):
        for t in traces:
            env = t.envelope
            if env.reduced:
                ax.fill_between(env.x, env.low, env.high, color=t.color, alpha=0.18, lw=0)
            ax.plot(env.x, env.mean, color=t.color, lw=1.1, label=_legend_label(t.label), ls="--" if t.dashed else "-")
        if chart.log:
            _log_y(ax)
        _draw_markers(ax, chart.markers)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, max(1, chart.length - 1))
        if not chart.log:
            ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1, 0].xaxis.set_major_formatter(FuncFormatter(_elapsed))
    axes[-1, 0].set_xlabel("elapsed (h:mm:ss)")
    return fig


def _draw_spectrum(chart: SpectrumChart) -> plt.Figure:
    """x: the percentile on a log 'nines' axis (1/(1-q)); y: ms on a log axis; two panels a row."""
    rows = -(-len(chart.panels) // 2)
    height = SPECTRUM_IN * rows
    fig, axes = plt.subplots(rows, 2, figsize=(WIDTH_IN, height), squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.96, top=1 - MARGIN_TOP_IN / height, bottom=0.7 / height,
                        hspace=0.55, wspace=0.2)
    for ax in axes.flat[len(chart.panels):]:
        ax.set_visible(False)
    for ax, (title, curves) in zip(axes.flat, chart.panels):
        for label, qs, values in curves:
            ax.plot([1.0 / (1.0 - q / 100.0) for q in qs], [max(v, 1e-3) for v in values],
                    marker="o", ms=2.5, lw=1.2, label=label)
        ax.set_xscale("log")
        _log_y(ax)
        # the axis ends where the data does (a curve stops at the percentile its samples resolve)
        right = max((1.0 / (1.0 - qs[-1] / 100.0) for _, qs, _ in curves if qs), default=10.0) * 1.5
        ticks = [(x, label) for x, label in SPECTRUM_TICKS if x <= right]
        ax.set_xticks([x for x, _ in ticks], [label for _, label in ticks])
        ax.xaxis.set_minor_locator(NullLocator())  # log minor ticks cost more than the rest of the chart
        ax.set_xlim(1, max(10.0, right))
        ax.set_title(title, loc="left")
        ax.set_ylabel("ms")
        ax.set_xlabel("percentile (%)")
        ax.legend(loc="upper left")
    return fig


def draw(chart: Chart) -> str:
    """The chart as a base64 SVG data URI."""
    fig = _draw_time(chart) if isinstance(chart, TimeChart) else _draw_spectrum(chart)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def draw_all(charts: list[Chart]) -> list[str]:
    """Every chart drawn, on all cores when there are several (matplotlib is single-threaded and
    drawing is most of a report's time)."""
    workers = min(len(charts), os.cpu_count() or 1)
    if workers < 2:
        return [draw(c) for c in charts]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(draw, charts))
