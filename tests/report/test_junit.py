from __future__ import annotations

import xml.etree.ElementTree as ET

from orchestrator.report.junit import junit_xml
from orchestrator.summary import RunInfo, SloResult, Summary


def _summary(*slos: SloResult) -> Summary:
    return Summary(plan={"name": "p<&>"}, run=RunInfo(id="r", started=1.7e9, duration_s=12.5), verdict="fail", slos=list(slos))


def _slo(name: str, verdict: str, observed: float | None, window_s: float | None = 540.0) -> SloResult:
    return SloResult(name=name, metric="publish_latency.p99", op="<", threshold=20.0, unit="ms", observed=observed,
                     verdict=verdict, window_s=window_s)


def test_one_testcase_per_slo_with_failures_and_errors_counted():
    root = ET.fromstring(junit_xml(_summary(_slo("a", "pass", 5.0), _slo("b", "fail", 31.0), _slo("c", "no_data", None),
                                            _slo("d", "no_data", None, window_s=None))))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("name")) == ("4", "1", "2", "p<&>")
    assert (root.get("failures"), root.get("errors")) == ("1", "2")
    assert [c.get("name") for c in suite.findall("testcase")] == ["a", "b", "c", "d"]
    assert suite.findall("testcase")[0].find("failure") is None and suite.findall("testcase")[0].find("error") is None


def test_testcase_time_is_the_slo_window_in_seconds():
    cases = ET.fromstring(junit_xml(_summary(_slo("a", "pass", 5.0), _slo("d", "no_data", None, window_s=None)))).findall(
        "testsuite/testcase")
    assert [c.get("time") for c in cases] == ["540.000", "0.000"]  # a phase that never ran has no window


def test_failure_message_gives_observed_against_threshold():
    failure = ET.fromstring(junit_xml(_summary(_slo("b", "fail", 31.0)))).find("testsuite/testcase/failure")
    assert failure.get("type") == "fail"
    assert failure.get("message") == "observed 31 ms, required publish_latency.p99 < 20 ms"


def test_no_data_is_an_error_saying_so():
    case = ET.fromstring(junit_xml(_summary(_slo("c", "no_data", None)))).find("testsuite/testcase")
    error = case.find("error")
    assert case.find("failure") is None and error.get("type") == "no_data"
    assert error.get("message").startswith("no data for publish_latency.p99 < 20 ms")


def test_an_unfinished_run_adds_a_failed_run_testcase_timed_by_the_run():
    summary = _summary(_slo("a", "pass", 5.0)).model_copy(update={"run": RunInfo(
        id="r", started=1.7e9, duration_s=12.5, status="killed", reason="no run_end event")})
    root = ET.fromstring(junit_xml(summary))
    run = root.findall("testsuite/testcase")[-1]
    assert (run.get("name"), run.get("time"), root.find("testsuite").get("failures")) == ("run", "12.500", "1")
    assert run.find("failure").get("message") == "run killed: no run_end event"


def test_no_slos_gives_a_valid_empty_suite():
    root = ET.fromstring(junit_xml(_summary()))
    assert root.find("testsuite").get("tests") == "0" and root.find("testsuite/testcase") is None
