from __future__ import annotations

import xml.etree.ElementTree as ET

from orchestrator.report.junit import junit_xml
from orchestrator.summary import RunInfo, SloResult, Summary


def _summary(*slos: SloResult) -> Summary:
    return Summary(plan={"name": "p<&>"}, run=RunInfo(id="r", started=1.7e9, duration_s=12.5), verdict="fail", slos=list(slos))


def _slo(name: str, verdict: str, observed: float | None) -> SloResult:
    return SloResult(name=name, metric="publish_latency.p99", op="<", threshold=20.0, unit="ms", observed=observed,
                     verdict=verdict)


def test_one_testcase_per_slo_with_failures_counted():
    root = ET.fromstring(junit_xml(_summary(_slo("a", "pass", 5.0), _slo("b", "fail", 31.0), _slo("c", "no_data", None))))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("name")) == ("3", "2", "p<&>")
    assert [c.get("name") for c in suite.findall("testcase")] == ["a", "b", "c"]
    assert suite.findall("testcase")[0].find("failure") is None


def test_failure_message_gives_observed_against_threshold():
    failure = ET.fromstring(junit_xml(_summary(_slo("b", "fail", 31.0)))).find("testsuite/testcase/failure")
    assert failure.get("type") == "fail"
    assert failure.get("message") == "observed 31 ms, required publish_latency.p99 < 20 ms"


def test_no_data_is_a_failure_saying_so():
    failure = ET.fromstring(junit_xml(_summary(_slo("c", "no_data", None)))).find("testsuite/testcase/failure")
    assert failure.get("message").startswith("no data for publish_latency.p99 < 20 ms")


def test_no_slos_gives_a_valid_empty_suite():
    root = ET.fromstring(junit_xml(_summary()))
    assert root.find("testsuite").get("tests") == "0" and root.find("testsuite/testcase") is None
