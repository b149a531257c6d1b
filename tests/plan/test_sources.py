"""The catalogue of broker (JMX) and host metrics: every name usable in SLOs, charted, and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.execute.broker_jmx import jmxtool_arguments
from orchestrator.plan.metrics import spec
from orchestrator.plan.models import METRIC_PATTERN, Slo
from orchestrator.plan.sources import CATALOGUE, JMX_METRICS, ROLE_MARKERS
from orchestrator.report.sources import BROKER_PANELS, HOST_PANELS


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_metric_is_an_slo_metric_with_its_unit(name: str) -> None:
    assert METRIC_PATTERN.match(name)
    entry = CATALOGUE[name]
    assert (spec(name).unit, spec(name).reduce, spec(name).combine) == (entry.unit, entry.reduce, entry.combine)


def test_a_threshold_converts_to_the_catalogue_unit() -> None:
    assert Slo(name="idle", metric="broker.request_handler_idle", op=">=", threshold="20%").metric == "broker.request_handler_idle"
    with pytest.raises(ValueError, match="unknown metric"):
        Slo(name="x", metric="broker.request_handler_busy", threshold=1)


def test_every_catalogue_metric_is_charted_once() -> None:
    charted = [metric for *_, metrics in BROKER_PANELS + HOST_PANELS for metric, _ in metrics]
    assert sorted(charted) == sorted(CATALOGUE)


def test_jmxtool_queries_each_mbean_once_with_a_wildcard_among_them() -> None:
    args = jmxtool_arguments("127.0.0.1:9999", 5000)
    names = [args[i + 1] for i, a in enumerate(args) if a == "--object-name"]
    assert sorted(names) == sorted({m.mbean for m in JMX_METRICS})
    # JmxTool counts the attributes per MBean only when some query is a pattern (see broker_jmx)
    assert any("*" in n for n in names)
    assert args[args.index("--jmx-url") + 1] == "service:jmx:rmi:///jndi/rmi://127.0.0.1:9999/jmxrmi"


def test_the_role_markers_are_queried() -> None:
    assert set(ROLE_MARKERS) <= {m.mbean for m in JMX_METRICS}


def test_results_md_lists_the_whole_catalogue() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text()
    assert [name for name in CATALOGUE if f"| `{name}` |" not in doc] == []
