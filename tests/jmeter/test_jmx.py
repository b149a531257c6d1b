import pytest

from orchestrator.errors import InputError
from orchestrator.jmeter.jmx import parse_jmx
from tests.jmx_fixtures import every_plan

PLAN = """<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2">
  <hashTree>
    <TestPlan testclass="TestPlan" testname="p"/>
    <hashTree>
      <ThreadGroup testclass="ThreadGroup" testname="tg">
        <stringProp name="ThreadGroup.num_threads">${__P(threads,4)}</stringProp>
      </ThreadGroup>
      <hashTree>
        <JavaSampler testclass="JavaSampler" testname="send">
          <elementProp name="arguments" elementType="Arguments">
            <collectionProp name="Arguments.arguments">
              <elementProp name="bootstrap.servers" elementType="Argument">
                <stringProp name="Argument.name">bootstrap.servers</stringProp>
                <stringProp name="Argument.value">${__P(brokers,a:1\\,b:2)}</stringProp>
              </elementProp>
            </collectionProp>
          </elementProp>
          <stringProp name="classname">com.example.Sampler</stringProp>
        </JavaSampler>
        <hashTree>
          <ConstantThroughputTimer testclass="ConstantThroughputTimer" testname="ctt" enabled="false">
            <doubleProp><name>throughput</name><value>600.0</value></doubleProp>
          </ConstantThroughputTimer>
          <hashTree/>
        </hashTree>
      </hashTree>
    </hashTree>
  </hashTree>
</jmeterTestPlan>
"""


@pytest.fixture
def jmx(tmp_path):
    path = tmp_path / "plan.jmx"
    path.write_text(PLAN)
    return parse_jmx(path)


def test_elements_keep_their_line_and_thread_group(jmx):
    sampler = jmx.of_class("JavaSampler")[0]
    assert (sampler.line, sampler.thread_group) == (10, "tg")


def test_java_sampler_arguments_flatten_to_name_value_with_their_path(jmx):
    sampler = jmx.of_class("JavaSampler")[0]
    assert sampler.java_class == "com.example.Sampler"
    assert sampler.props["bootstrap.servers"] == "${__P(brokers,a:1\\,b:2)}"
    assert sampler.paths["bootstrap.servers"] == ("arguments", "Arguments.arguments", "bootstrap.servers", "Argument.value")


def test_nameless_double_prop_and_disabled_flag_are_read(jmx):
    timer = jmx.of_class("ConstantThroughputTimer")[0]
    assert timer.props["throughput"] == "600.0" and not timer.enabled


def test_property_reads_with_escaped_commas_in_defaults(jmx):
    reads = {r.name: r.default for r in jmx.property_reads}
    assert reads == {"threads": "4", "brokers": "a:1,b:2"}


def test_broken_xml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.jmx"
    path.write_text(PLAN.replace("</JavaSampler>", "</JavaSamplr>"))
    with pytest.raises(InputError, match=r"broken.jmx:20:\d+: malformed XML: mismatched tag"):
        parse_jmx(path)


def test_other_xml_is_not_a_test_plan(tmp_path):
    path = tmp_path / "pom.jmx"
    path.write_text("<project/>")
    with pytest.raises(InputError, match=r"pom.jmx:1: <project> is not a JMeter test plan"):
        parse_jmx(path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        parse_jmx(tmp_path / "nope.jmx")


@pytest.mark.parametrize("path", every_plan())
def test_every_fixture_parses(path):
    assert parse_jmx(path).thread_groups
