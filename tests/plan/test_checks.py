"""Cross-field checks on the whole plan, each pointing at the key that is wrong."""

from __future__ import annotations

import pytest

from .sample import BASE

INV = """inventory:
  hosts:
    - {name: b1, address: 127.0.0.1, roles: [broker, controller], connection: local, kafka_port: 19092, controller_port: 19093}
    - {name: b2, address: 127.0.0.1, roles: [broker, controller], connection: local, kafka_port: 19092, controller_port: 19193}
    - {name: a1, address: 127.0.0.1, roles: [agent], connection: local}
"""
INV_OK = INV.replace("kafka_port: 19092, controller_port: 19193", "kafka_port: 19192, controller_port: 19193")
PROVISIONED = BASE.replace("metadata:", "target:\n  kind: provisioned\nprovision: {}\nmetadata:")

CASES = [
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n  - name: orders\n"),
        ["PLAN:5:11: topics.1.name: duplicate name 'orders' (already used by topics.0)"],
        id="dup-topic",
    ),
    pytest.param(
        BASE.replace("  - name: c\n", "  - name: p\n"),
        ["PLAN:10:11: workloads.1.name: duplicate name 'p' (already used by workloads.0)"],
        id="dup-workload",
    ),
    pytest.param(
        BASE + "  - name: s\n    kind: steady\n    duration: 5s\n",
        ["PLAN:17:11: phases.1.name: duplicate name 's' (already used by phases.0)"],
        id="dup-phase",
    ),
    pytest.param(
        BASE.replace("    topic: orders\n    rate", "    topic: order\n    rate"),
        ["PLAN:8:12: workloads.0.topic: topic 'order' is not declared under 'topics' (declared: orders); did you mean 'orders'?"],
        id="topic-undeclared",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: produce.rate\n    workload: q\n    threshold: 1\n",
        ["PLAN:20:15: slos.0.workload: no workload named 'q'"],
        id="slo-workload",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: produce.rate\n    phase: steady\n    threshold: 1\n",
        ["PLAN:20:12: slos.0.phase: no phase named 'steady'"],
        id="slo-phase",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: e2e_latency.p99\n    workload: p\n    threshold: 1\n",
        ["PLAN:19:13: slos.0.metric: e2e_latency.p99 is measured by consumers, and workload 'p' is not a consumer workload"],
        id="slo-kind",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: jmeter.rate\n    threshold: 1\n",
        ['PLAN:19:13: slos.0.metric: jmeter.rate is measured by JMeter, and the plan has no jmeter-engine workload'],
        id="slo-jmeter",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: broker.request_handler_idle\n    op: '>='\n    threshold: 20%\n",
        ["PLAN:19:13: slos.0.metric: broker.request_handler_idle needs monitors.jmx.enabled"],
        id="slo-jmx-disabled",
    ),
    pytest.param(
        BASE.replace("metadata:", "target: {kind: existing, bootstrap_servers: ['127.0.0.1:9092']}\n"
                     "monitors: {jmx: {enabled: true}}\nmetadata:"),
        ["PLAN:2:27: monitors.jmx.enabled: the brokers' JMX is read from brokers this tool starts "
         "(target kind 'local' or 'provisioned'), not an 'existing' cluster"],
        id="jmx-existing",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: disk.util\n    workload: p\n    threshold: 1\n",
        ["PLAN:19:13: slos.0.metric: disk.util is measured per broker host, not per workload: remove 'workload'"],
        id="slo-disk-workload",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: produce.rate\n    sustained: 1m\n    threshold: 1\n",
        ['PLAN:20:16: slos.0.sustained: sustained 1m is longer than the 10s the SLO is evaluated over'],
        id="slo-sustained",
    ),
    pytest.param(
        BASE.replace("    kind: steady\n    duration: 10s\n", "    kind: steps\n    step_duration: 10s\n    rates: [1k/s, max]\n"),
        ["PLAN:17:19: phases.0.rates.1: steps need numeric rates such as '1k/s', not 'max'"],
        id="steps-max",
    ),
    pytest.param(
        BASE.replace("duration: 10s", "duration: 31d"),
        ['PLAN:13:1: phases: the phases add up to 31d, more than the maximum of 30d'],
        id="too-long",
    ),
    pytest.param(
        BASE + "faults:\n  - name: f\n    action: broker_kill\n    at: 10s\n    duration: 1s\n",
        ['PLAN:20:9: faults.0.at: at 10s is not within the run (the phases end at 10s)'],
        id="fault-at",
    ),
    pytest.param(
        BASE + "faults:\n  - name: f\n    action: broker_kill\n    at: 5s\n    duration: 6s\n",
        ['PLAN:21:15: faults.0.duration: the fault ends at 11s, after the phases end at 10s, so recovery would not be observed'],
        id="fault-end",
    ),
    pytest.param(
        BASE.replace("metadata:", "target: {kind: existing, bootstrap_servers: ['localhost:9092']}\nmetadata:") + "faults:\n  - name: f\n    action: broker_kill\n    at: 1s\n    duration: 1s\n",
        ["PLAN:19:5: faults.0: faults stop and restart brokers that orchestrate runs: use a 'local' or "
         "'provisioned' target, not an 'existing' cluster"],
        id="fault-existing",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  kind: provisioned\nmetadata:"),
        ["PLAN:2:9: target.kind: target kind 'provisioned' needs a 'provision' section", "PLAN:2:9: target.kind: target kind 'provisioned' needs an 'inventory'"],
        id="provisioned-no-inv",
    ),
    pytest.param(
        BASE + "provision:\n  heap: 1GiB\n",
        ["PLAN:17:1: provision: 'provision' is only used with target kind 'provisioned', not 'local'"],
        id="provision-local",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    replication_factor: 3\n"),
        ['PLAN:5:25: topics.0.replication_factor: replication_factor 3 needs several brokers, and the local target runs one: use 1, or a provisioned target'],
        id="rf-local",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    agents: [a1]\n"),
        ["PLAN:10:5: workloads.0.agents: agents name inventory hosts, and the plan has no 'inventory'"],
        id="agents-noinv",
    ),
    pytest.param(
        PROVISIONED + INV,
        ["PLAN:23:98: inventory.hosts.1.kafka_port: kafka_port 19092 is already used by host 'b1'"],
        id="inv-clash",
    ),
    pytest.param(
        PROVISIONED.replace("    rate: 1k/s\n", "    rate: 1k/s\n    agents: [b1]\n") + INV_OK,
        ["PLAN:13:14: workloads.0.agents.0: no inventory host 'b1' with role 'agent'"],
        id="agents-bad",
    ),
    pytest.param(
        PROVISIONED.replace("  - name: orders\n", "  - name: orders\n    replication_factor: 3\n") + INV_OK,
        ['PLAN:8:25: topics.0.replication_factor: replication_factor 3 is more than the 2 broker host(s) in the inventory'],
        id="rf-prov",
    ),
    pytest.param(
        PROVISIONED + "inventory:\n  hosts:\n    - {name: a1, address: 127.0.0.1, roles: [agent]}\n",
        ["PLAN:21:3: inventory.hosts: the inventory names no host with role 'broker'"],
        id="no-broker",
    ),
    pytest.param(
        PROVISIONED + INV_OK + "faults:\n  - name: f\n    action: broker_kill\n    broker: b3\n    at: 1s\n    duration: 1s\n",
        ["PLAN:28:13: faults.0.broker: no inventory host 'b3' with role 'broker'"],
        id="fault-broker-name",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  kind: provisioned\nprovision: {install_source: tarball}\nmetadata:") + INV_OK,
        ["PLAN:3:1: provision.tarball_url: install_source 'tarball' needs a tarball_url"],
        id="tarball",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rejected(reject, text: str, expected: list[str]) -> None:
    assert reject(text) == expected


def test_inv_both(reject, write_plan) -> None:
    write_plan("[brokers]\n", name="hosts.ini")
    text = BASE + "inventory:\n  path: hosts.ini\n  hosts: [{name: a, address: b, roles: [agent]}]\n"
    assert reject(text) == [
        "PLAN:18:9: inventory.path: give either 'hosts' or 'path', not both",
    ]
