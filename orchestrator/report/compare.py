"""``orchestrate compare RUN_A RUN_B [...]``: runs side by side against the first (the baseline).

Every workload metric and SLO observation of each run is listed with its delta to the baseline
(absolute and %), and throughput and p99 latency are overlaid on one elapsed-time axis. Written
to OUT/index.html and OUT/compare.json.

``--fail-if "METRIC OP DELTA"`` flags a regression when the change from baseline to a candidate,
for any workload present in both, satisfies ``change OP DELTA``. DELTA is relative with ``%``
("publish_latency.p99 > +10%", "produce.rate < -5%") or absolute in the metric's unit ("> +5ms").
METRIC is a workload metric as listed in docs/results.md ("produce.latency" and "consume.latency"
are accepted for publish_latency and e2e_latency), or ``QUESTION.value``, the headline number of
an answer ("capacity.value < -10%"); an answer's absolute DELTA is a plain number in its own unit.
"""

from __future__ import annotations

import csv
import json
import re
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.analyze.slo import OPS
from orchestrator.errors import InputError, UsageError
from orchestrator.plan.metrics import Unit, parse_threshold, spec
from orchestrator.plan.models import METRIC_ALIASES
from orchestrator.report.build import build
from orchestrator.report.charts import Line, Markers, draw, time_chart
from orchestrator.report.templates import render
from orchestrator.rundir import RunDir
from orchestrator.summary import SCHEMA_VERSION, Answer, Summary, WorkloadSummary

_EXPR = re.compile(r"^\s*([a-z_][a-z0-9_.]*)\s*(<=|>=|<|>)\s*([+-]?\d+(?:\.\d+)?)\s*(%|[a-zA-Zµ/]+)?\s*$")
_ALIASES = {"produce.latency": "publish_latency", "consume.latency": "e2e_latency"}
_STATS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
_KIND_PREFIX = {"producer": "produce", "consumer": "consume", "script": "jmeter"}
_QUESTIONS = typing.get_args(Answer.model_fields["question"].annotation)
_LATENCY_HEADS = ("publish_latency", "publish_delay", "corrected_latency", "e2e_latency", "jmeter.elapsed")


@dataclass(frozen=True)
class FailIf:
    text: str
    metric: str
    op: str
    delta: float
    relative: bool

    def regressed(self, baseline: float, candidate: float) -> tuple[bool, float]:
        change = candidate - baseline
        if self.relative:
            if baseline == 0:
                return False, 0.0
            change = 100.0 * change / abs(baseline)
        return OPS[self.op](change, self.delta), change


def workload_metrics(w: WorkloadSummary) -> dict[str, float]:
    """The comparable numbers of one workload, by the names fail-if expressions use."""
    prefix = _KIND_PREFIX[w.kind]
    out: dict[str, float] = {f"{prefix}.messages": w.messages, f"{prefix}.bytes": w.bytes,
                             f"{prefix}.errors": w.errors, f"{prefix}.rate": w.throughput.msgs_per_s,
                             f"{prefix}.throughput_mb": w.throughput.mb_per_s}
    for name, value in (("lost", w.lost), ("duplicated", w.duplicated), ("out_of_order", w.out_of_order),
                        ("position_lag", w.max_position_lag), ("committed_lag", w.max_committed_lag)):
        if value is not None:
            out[f"{prefix}.{name}"] = value
    for kind, stats in w.latency_ms.items():
        base = "jmeter.elapsed" if kind == "elapsed" else kind
        for stat in _STATS:
            value = getattr(stats, stat)
            if value is not None:
                out[f"{base}.{stat}"] = value
    return out


def _unit_of(metric: str) -> Unit:
    """The unit of a workload metric name; InputError for a name ``workload_metrics`` never gives."""
    head, _, leaf = metric.rpartition(".")
    if leaf in _STATS and head in _LATENCY_HEADS:
        return "ms"
    if leaf in ("messages", "bytes") and head in _KIND_PREFIX.values():
        return "count" if leaf == "messages" else "B"
    if leaf in _STATS:
        raise InputError(f"unknown metric {metric!r}")
    return spec(metric).unit


def parse_fail_if(text: str) -> FailIf:
    match = _EXPR.match(text)
    if not match:
        raise UsageError(f"--fail-if {text!r}: expected 'METRIC OP DELTA', e.g. 'publish_latency.p99 > +10%'")
    metric, op, number, unit = match.groups()
    head, _, stat = metric.rpartition(".")
    if head in _QUESTIONS and stat == "value":
        if unit not in (None, "%"):
            raise UsageError(f"--fail-if {text!r}: an answer's delta is a % or a plain number in the answer's own unit")
        return FailIf(text, metric, op, float(number), relative=unit == "%")
    metric = f"{_ALIASES[head]}.{stat}" if head in _ALIASES else METRIC_ALIASES.get(metric, metric)
    try:
        base_unit = _unit_of(metric)
    except InputError:
        raise UsageError(f"--fail-if {text!r}: unknown metric {metric!r}") from None
    if unit == "%":
        return FailIf(text, metric, op, float(number), relative=True)
    try:
        size = parse_threshold(f"{number.lstrip('+-')}{unit or ''}", base_unit, f"--fail-if {text!r}")
    except InputError as err:
        raise UsageError(str(err)) from None
    delta = -size if number.startswith("-") else size
    return FailIf(text, metric, op, delta, relative=False)


@dataclass(frozen=True)
class Row:
    scope: str  # workload name, or "SLO"
    metric: str
    values: list[float | None]  # one per run, baseline first

    def deltas(self) -> list[tuple[float | None, float | None]]:
        base = self.values[0]
        out = []
        for v in self.values[1:]:
            if base is None or v is None:
                out.append((None, None))
            else:
                out.append((v - base, 100.0 * (v - base) / abs(base) if base else None))
        return out


@dataclass
class CompareResult:
    runs: list[str]
    rows: list[Row] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    out: Path | None = None

    def headline(self) -> str:
        where = f" ({self.out / 'index.html'})" if self.out else ""
        if not self.regressions:
            return f"compared {len(self.runs)} runs against {self.runs[0]}: no regressions{where}"
        return (f"compared {len(self.runs)} runs against {self.runs[0]}: {len(self.regressions)} regression(s){where}\n"
                + "\n".join(f"  {r}" for r in self.regressions))


def _load_summary(run: Path) -> Summary:
    """The run's summary.json; built from raw/ when there is none, or an older schema's that raw/ can rebuild."""
    path = RunDir(run).summary
    if not path.is_file():
        return build(run)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("schema_version") != SCHEMA_VERSION and RunDir(run).raw.is_dir():
            return build(run)
        return Summary.model_validate(data)
    except ValueError as err:
        raise InputError(f"{path}: not a valid summary.json: {str(err).splitlines()[0]}") from None


def _rows(summaries: list[Summary]) -> list[Row]:
    per_run = [{w.name: workload_metrics(w) for w in s.workloads} for s in summaries]
    rows = []
    for name in dict.fromkeys(w.name for s in summaries for w in s.workloads):
        metrics = dict.fromkeys(m for run in per_run for m in run.get(name, {}))
        rows += [Row(name, m, [run.get(name, {}).get(m) for run in per_run]) for m in metrics]
    slos = dict.fromkeys(r.name for s in summaries for r in s.slos)
    for slo in slos:
        observed = [next((r.observed for r in s.slos if r.name == slo), None) for s in summaries]
        rows.append(Row("SLO", slo, observed))
    for question in dict.fromkeys(a.question for s in summaries for a in s.answers):
        values = [next((a.value for a in s.answers if a.question == question and a.answered), None) for s in summaries]
        rows.append(Row("answer", f"{question}.value", values))
    return rows


def _regressions(rows: list[Row], rules: list[FailIf], runs: list[str]) -> list[str]:
    found = []
    for rule in rules:
        for row in rows:
            if row.scope == "SLO" or row.metric != rule.metric or row.values[0] is None:
                continue
            for run, value in zip(runs[1:], row.values[1:]):
                if value is None:
                    continue
                hit, change = rule.regressed(row.values[0], value)
                if hit:
                    shown = f"{change:+.1f}%" if rule.relative else f"{change:+.6g}"
                    found.append(f"{run}: {row.scope}: {rule.metric} {row.values[0]:.6g} ▶ {value:.6g} "
                                 f"({shown}) matches {rule.text!r}")
    return found


def _timeline_columns(run: Path, metric: str) -> list[float | None] | None:
    """Per second, the sum (rates) or max (latency) of the run's ``metric`` columns in timeline.csv."""
    path = run / "results" / "timeline.csv"
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, [])
        wanted = [i for i, c in enumerate(header) if c == metric or c.startswith(metric + "[")]
        if not wanted:
            return None
        combine = max if "latency" in metric else sum
        out: list[float | None] = []
        for row in reader:
            present = [float(row[i]) for i in wanted if i < len(row) and row[i]]
            out.append(combine(present) if present else None)
    return out


def _overlay(runs: list[Path], labels: list[str], metric: str, title: str, unit: str) -> str | None:
    lines = [Line(label, values) for run, label in zip(runs, labels)
             if (values := _timeline_columns(run, metric)) is not None]
    if not lines:
        return None
    length = max(len(line.values) for line in lines)
    padded = [Line(line.label, line.values + [None] * (length - len(line.values))) for line in lines]
    chart = time_chart([(title, unit, padded)], Markers(), length, log="latency" in metric)
    return draw(chart) if chart else None


def compare(runs: list[Path], out: Path | None, fail_if: list[str]) -> CompareResult:
    rules = [parse_fail_if(text) for text in fail_if]
    if len(runs) < 2:
        raise UsageError("compare needs at least two run directories (the first is the baseline)")
    summaries = [_load_summary(run) for run in runs]
    labels = [run.name or str(run) for run in runs]
    result = CompareResult(labels, _rows(summaries))
    result.regressions = _regressions(result.rows, rules, labels)
    # beside the runs (not wherever the command happens to be typed), so comparisons stay with their runs
    out = out or runs[-1].resolve().parent / f"compare-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"
    out.mkdir(parents=True, exist_ok=True)
    result.out = out
    charts = [c for c in (_overlay(runs, labels, "produce.rate", "Produced messages per second", "msg/s"),
                          _overlay(runs, labels, "publish_latency.p99", "Publish latency p99 (worst workload)", "ms"))
              if c]
    (out / "index.html").write_text(render("compare.html.j2", result=result, summaries=summaries, charts=charts,
                                           rules=[r.text for r in rules]), encoding="utf-8")
    (out / "compare.json").write_text(json.dumps({
        "runs": labels, "fail_if": [r.text for r in rules], "regressions": result.regressions,
        "rows": [{"scope": r.scope, "metric": r.metric, "values": r.values,
                  "deltas": [{"abs": a, "pct": p} for a, p in r.deltas()]} for r in result.rows],
    }, indent=1), encoding="utf-8")
    return result
