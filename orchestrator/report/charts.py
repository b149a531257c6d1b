"""Charts for the HTML report: matplotlib (Agg) figures embedded as base64 SVG data URIs, so the
page is one self-contained file and each chart's SVG ids stay private to it.

Long series are downsampled to at most ``MAX_POINTS`` buckets: the line is the bucket mean and a
shaded envelope spans the bucket's min and max, so a one-second spike in a 24-hour run stays
visible. Every time chart shows the run's phases (shaded spans) and faults and breaches (red).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

MAX_POINTS = 600
BRIDGE_S = 10
WIDTH_IN, HEIGHT_IN = 11.0, 3.0
PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#db2777", "#4b5563", "#65a30d"]
plt.rcParams.update({
    "svg.fonttype": "none", "svg.hashsalt": "orchestrate", "font.size": 9, "axes.titlesize": 10,
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
    kind: str  # "phase" or "fault"


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
        else:
            ax.axvspan(span.start, span.end, color="#dc2626", alpha=0.12, lw=0)
            ax.annotate(span.label, (span.start, 0.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color="#b91c1c")
    for label, at in markers.instants:
        ax.axvline(at, color="#dc2626", lw=1.0, ls="--")
        ax.annotate(label, (at, 0.5), xycoords=("data", "axes fraction"), xytext=(3, 0),
                    textcoords="offset points", fontsize=7, color="#b91c1c", rotation=90, va="center")


def _plot_lines(ax: Axes, lines: list[Line], log: bool) -> bool:
    drawn = False
    for i, line in enumerate(lines):
        env = downsample(line.values)
        if np.all(np.isnan(env.mean)):
            continue
        color = line.color or PALETTE[i % len(PALETTE)]
        if env.reduced:
            ax.fill_between(env.x, env.low, env.high, color=color, alpha=0.18, lw=0)
        ax.plot(env.x, env.mean, color=color, lw=1.1, label=line.label, ls="--" if line.dashed else "-")
        drawn = True
    if drawn and log:
        ax.set_yscale("log")
    return drawn


def _to_data_uri(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def time_chart(panels: list[tuple[str, str, list[Line]]], markers: Markers, length: int,
               log: bool = False) -> str | None:
    """Stacked panels (title, y label, lines) sharing the elapsed-time axis; None when no panel has data."""
    panels = [p for p in panels if any(any(v is not None for v in line.values) for line in p[2])]
    if not panels:
        return None
    fig, axes = plt.subplots(len(panels), 1, figsize=(WIDTH_IN, HEIGHT_IN * (0.8 if len(panels) > 1 else 1) * len(panels)),
                             sharex=True, squeeze=False)
    for ax, (title, ylabel, lines) in zip(axes[:, 0], panels):
        _plot_lines(ax, lines, log)
        _draw_markers(ax, markers)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, max(1, length - 1))
        if not log:
            ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1, 0].xaxis.set_major_formatter(FuncFormatter(_elapsed))
    axes[-1, 0].set_xlabel("elapsed (h:mm:ss)")
    return _to_data_uri(fig)


def spectrum_chart(panels: list[tuple[str, list[tuple[str, list[float], list[float]]]]]) -> str | None:
    """Latency by percentile, one panel per latency kind with data, two to a row: x is the
    percentile on a log 'nines' axis (1/(1-q)), y is ms on a log axis."""
    panels = [(title, curves) for title, curves in panels if any(c[2] for c in curves)]
    if not panels:
        return None
    rows = -(-len(panels) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(WIDTH_IN, HEIGHT_IN * 1.1 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    ticks = [1.0, 2.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]
    for ax, (title, curves) in zip(axes.flat, panels):
        for label, qs, values in curves:
            ax.plot([1.0 / (1.0 - q / 100.0) for q in qs], [max(v, 1e-3) for v in values],
                    marker="o", ms=2.5, lw=1.2, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, ["0", "50", "90", "99", "99.9", "99.99", "99.999", "99.9999"])
        ax.set_xlim(1, 1e6)
        ax.set_title(title, loc="left")
        ax.set_ylabel("ms")
        ax.set_xlabel("percentile (%)")
        ax.legend(loc="upper left")
    fig.tight_layout()
    return _to_data_uri(fig)
