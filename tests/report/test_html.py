from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

from orchestrator.analyze.window import judged_window
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.plan.models import Plan
from orchestrator.report.build import summarize
from orchestrator.report.html import render_report
from orchestrator.rundir import RunDir
from orchestrator.summary import ErrorCount, Event
from tests.fakes import PLAN_YAML, make_measured, rich_measured

NASTY = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    data = yaml.safe_load(PLAN_YAML)
    data["metadata"]["description"] = NASTY
    data["metadata"]["labels"] = {"owner": '"><img src=x onerror=alert(1)>'}
    plan = Plan.model_validate(data)
    m = rich_measured(120)
    m.warnings.append(f"raw/native/p.jsonl:3: {NASTY}")
    summary = summarize(RunDir(tmp_path_factory.mktemp("run")), plan, m)
    return render_report(plan, summary, m, judged_window(m.phases, m.timeline), [])


def test_page_is_self_contained(page):
    # the only address is the banner of the inlined uPlot; nothing is fetched
    assert re.findall(r"https?://[^\s\"')]+", page) == ["https://github.com/leeoniya/uPlot"]
    assert not re.search(r"<(link|iframe)\b", page, re.I)
    assert not re.search(r"<script\b[^>]*\bsrc=", page, re.I)
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)


def test_time_charts_carry_their_data_for_the_interactive_version(page):
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1))
    figures = [int(i) for i in re.findall(r'<figure data-chart="(\d+)">', page)]
    assert figures == list(range(len(data))) and data
    throughput = next(c for c in data if c["panels"][0]["title"] == "Messages per second")
    panel = throughput["panels"][0]
    assert panel["bucket_s"] == 1 and len(panel["x"]) == throughput["length"]
    assert all(len(s["y"]) == len(panel["x"]) for s in panel["series"])
    assert {s["kind"] for s in throughput["spans"]} >= {"phase"}


def test_plan_strings_are_escaped(page):
    assert NASTY not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_charts_are_embedded_svg(page):
    images = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 6
    assert all(base64.b64decode(i).lstrip().startswith(b"<?xml") for i in images)


def test_verdicts_and_markers_are_on_the_page(page):
    for text in ("p99-under-20ms", "rate-5k", "no-loss", "disk-busy", "stop-broker-1", "Disk projection"):
        assert text in page


def test_workload_table_names_both_lags_and_each_figures_window(page):
    assert "<th>Max position lag</th><th>Max committed lag</th>" in page
    assert "cover the measured window (every phase but warm-ups, " in page
    assert "Position lag: log end − the consumer" in page and "committed lag: log end − the" in page


def test_sections_without_data_are_left_out_and_listed_with_why(tmp_path):
    plan = Plan.model_validate(yaml.safe_load(PLAN_YAML))
    m = make_measured(30, {"produce.rate@producer": [1.0] * 30, "produce.errors@producer": [0.0] * 30})
    html = render_report(plan, summarize(RunDir(tmp_path), plan, m), m, judged_window([], m.timeline), [])
    not_measured = re.search(r'<p class="nodata small" id="not-measured">Not measured: (.*?)\.</p>', html).group(1)
    assert not_measured.split("; ") == [
        "Latency over time (no latency was recorded)", "Latency distribution (no latency histograms were recorded)",
        "Consumer lag (no consumer lag was recorded)", "Disks (no iostat samples were recorded)",
        "Brokers (JMX) (monitors.jmx.enabled is false)", "Hosts (no host samples were recorded)",
        "Log directories (no log-dir sizes were recorded)", "Replication health (no partition health samples were recorded)",
        "JMeter samplers (the plan has no JMeter workload)"]
    nav = re.search(r"<nav.*?</nav>", html, re.S).group(0)
    assert 'href="#throughput"' in nav and 'href="#jmeter"' not in nav and 'id="jmeter"' not in html
    # errors measured as zero every second: a sentence, not a flat chart
    assert "No errors: 0 in every second of the run (all workloads)." in html
    assert html.count("data:image/svg+xml") == 1


def test_each_step_gets_its_row_and_its_band_on_the_charts(tmp_path):
    plan = Plan.model_validate(yaml.safe_load(PLAN_YAML.replace(
        "{name: hold, kind: steady, duration: 540s}", "{name: hold, kind: steps, step_duration: 30s, rates: [5k/s, 6k/s]}")))
    m = rich_measured(120)
    t0 = m.timeline.start
    m.events += [Event(ts=t0 + 60, kind="step_start", name="hold/1", detail="step 5000 msg/s"),
                 Event(ts=t0 + 90, kind="step_end", name="hold/1"),
                 Event(ts=t0 + 90, kind="step_start", name="hold/2", detail="step 6000 msg/s"),
                 Event(ts=t0 + 120, kind="step_end", name="hold/2")]
    summary = summarize(RunDir(tmp_path), plan, m)
    assert [(s.name, s.rate, s.measured_from - t0, s.measured_to - t0) for s in summary.steps] == [
        ("hold/1", 5000.0, 60, 90), ("hold/2", 6000.0, 90, 120)]
    page = render_report(plan, summary, m, judged_window(m.phases, m.timeline), [])
    rows = re.findall(r"<tr><td>(hold/\d)</td><td>(\+\S+)</td><td class=\"num\">([\d,]+)</td><td class=\"num\">([\d,]+)</td>",
                      page.split('id="steps"')[1])
    assert [(name, start, rate) for name, start, rate, _ in rows] == [("hold/1", "+1m", "5,000"), ("hold/2", "+90s", "6,000")]
    assert all(4000 < int(achieved.replace(",", "")) < 6000 for *_, achieved in rows)
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert [s["label"] for s in data[0]["spans"] if s["kind"] == "step"] == ["1: 5k", "2: 6k"]


def test_partition_and_broker_spread_is_a_section_with_the_skew_called_out(tmp_path):
    plan = Plan.model_validate(yaml.safe_load(PLAN_YAML))
    topic = plan.topics[0].name
    m = make_measured(30, {"produce.rate@producer": [1.0] * 30})
    m.cluster = ClusterFacts(appended={f"{topic}-0": {"1": 9_000_000}, f"{topic}-1": {"2": 1_000_000}},
                             leaders={f"{topic}-0": "1", f"{topic}-1": "2"})
    summary = summarize(RunDir(tmp_path), plan, m)
    assert [p.partition for p in summary.placement.topics[0].partitions] == [f"{topic}-0", f"{topic}-1"]
    html = render_report(plan, summary, m, judged_window([], m.timeline), [])
    section = html.split('<section id="placement">')[1].split("</section>")[0]
    assert f"Partition {topic}-0 took 90% of the bytes written to {topic} (1.8x the mean of its 2 partitions)." in section
    assert "Broker 1 took 90% of the bytes written (1.8x the mean of 2 brokers)." in section
    assert "<td>1</td><td class=\"num\">9 MB</td><td class=\"num\">90.0 %</td>" in section
    assert 'href="#placement"' in html


def test_errors_show_the_top_codes_with_when_each_was_first_seen(tmp_path):
    plan = Plan.model_validate(yaml.safe_load(PLAN_YAML))
    m = rich_measured(120)
    producer = next(w for w in m.workloads if w.name == "producer")
    producer.errors = 10
    producer.errors_by_code = [ErrorCount(code="_MSG_TIMED_OUT", count=7, first=m.timeline.start + 75),
                               ErrorCount(code="NOT_ENOUGH_REPLICAS", count=3, first=m.timeline.start + 70)]
    summary = summarize(RunDir(tmp_path), plan, m)
    summary.run.started = m.timeline.start
    section = render_report(plan, summary, m, judged_window(m.phases, m.timeline), []).split('<section id="errors">')[1]
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>(\w+)</td><td class=\"num bad\">(\d+)</td>"
                      r"<td class=\"num\">([\d.]+) %</td><td>(\S+)</td></tr>", section.split("</section>")[0])
    assert rows == [("_MSG_TIMED_OUT", "producer", "7", "70.0", "+75s"), ("NOT_ENOUGH_REPLICAS", "producer", "3", "30.0", "+70s")]
