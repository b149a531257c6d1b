"""Schema violations reported as FILE:LINE:COL: path: message, one line per problem, exit 2."""

from __future__ import annotations

import pytest

from .sample import BASE

CASES = [
    pytest.param(
        BASE + "slo:\n  - name: x\n",
        ["PLAN:17:1: slo: unknown key 'slo'; did you mean 'slos'?"],
        id="unknown-top",
    ),
    pytest.param(
        BASE + "frobnicate: 1\n",
        ["PLAN:17:1: frobnicate: unknown key 'frobnicate'; valid keys: metadata, target, topics, workloads, phases, slos, monitors, faults, report, inventory, provision"],
        id="unknown-far",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    compresion: lz4\n"),
        ["PLAN:10:5: workloads.0.compresion: unknown key 'compresion'; did you mean 'compression'?"],
        id="unknown-nested",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    partitions: many\n"),
        ["PLAN:5:17: topics.0.partitions: expected an integer, got 'many'"],
        id="wrong-type-int",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    delete_after: maybe\n"),
        ["PLAN:5:19: topics.0.delete_after: expected a boolean (true or false), got 'maybe'"],
        id="bool-type",
    ),
    pytest.param(
        BASE.replace("    kind: consumer\n", ""),
        ['PLAN:10:5: workloads.1.kind: missing required key; one of: producer, consumer, script'],
        id="missing-kind",
    ),
    pytest.param(
        BASE.replace("kind: consumer", "kind: consumr"),
        ["PLAN:11:11: workloads.1.kind: unknown kind 'consumr'; did you mean 'consumer'? (valid: producer, consumer, script)"],
        id="unknown-kind",
    ),
    pytest.param(
        BASE.replace("kind: steady", "kind: hold"),
        ["PLAN:15:11: phases.0.kind: unknown kind 'hold' (valid: warmup, steady, ramp, steps, search, drain)"],
        id="unknown-phase-kind",
    ),
    pytest.param(
        BASE.replace("metadata:\n  name: t\n", ""),
        ['PLAN:1:1: metadata: missing required key'],
        id="missing-metadata",
    ),
    pytest.param(
        BASE.replace("  name: t\n", "  description: x\n"),
        ['PLAN:1:1: metadata.name: missing required key'],
        id="missing-name",
    ),
    pytest.param(
        BASE.replace("name: t\n", "name: -bad name\n"),
        ["PLAN:2:9: metadata.name: must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit, got '-bad name'"],
        id="bad-name",
    ),
    pytest.param(
        BASE.split("workloads:")[0] + "workloads: []\nphases:\n  - {name: s, kind: steady, duration: 10s}\n",
        ['PLAN:5:12: workloads: must have at least 1 item'],
        id="workloads-empty",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - orders\n"),
        ["PLAN:4:5: topics.0: expected a mapping, got 'orders'"],
        id="topic-not-mapping",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    compression: lz5\n"),
        ["PLAN:10:18: workloads.0.compression: expected one of none, gzip, snappy, lz4, zstd, got 'lz5'; did you mean 'lz4'?"],
        id="literal",
    ),
    pytest.param(
        BASE.replace("rate: 1k/s", "rate: fast"),
        ["PLAN:9:11: workloads.0.rate: expected a rate such as '500/s', '5k/s' or 'max', got 'fast'"],
        id="rate-bad",
    ),
    pytest.param(
        BASE.replace("rate: 1k/s", "rate: 0"),
        ['PLAN:9:11: workloads.0.rate: a rate must be positive, got 0'],
        id="rate-zero",
    ),
    pytest.param(
        BASE.replace("rate: 1k/s", "rate: 100M/s"),
        ['PLAN:9:11: workloads.0.rate: a rate of 1e+08 msg/s is above the sane maximum of 5e+07 msg/s'],
        id="rate-huge",
    ),
    pytest.param(
        BASE.replace("duration: 10s", "duration: 0s"),
        ["PLAN:16:15: phases.0.duration: must be greater than 0, got '0s'"],
        id="duration-zero",
    ),
    pytest.param(
        BASE.replace("duration: 10s", "duration: 10 parsecs"),
        ["PLAN:16:15: phases.0.duration: expected a duration such as '30s', '5m', '2h' or '7d', got '10 parsecs'"],
        id="duration-bad",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message: {size: 1 KB please}\n"),
        ["PLAN:10:21: workloads.0.message.size: expected a size such as '100B', '1KiB' or '2MB', got '1 KB please'"],
        id="size-bad",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message: {size: 1GiB}\n"),
        ["PLAN:10:21: workloads.0.message.size: must be less than or equal to 67108864, got '1GiB'"],
        id="size-too-big",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message:\n      size: {distribution: gauss, mean: 1KiB}\n"),
        ["PLAN:11:28: workloads.0.message.size.distribution: unknown distribution 'gauss' (valid: fixed, uniform, normal)"],
        id="unknown-dist",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message:\n      size: {distribution: uniform, min: 2KiB, max: 1KiB}\n"),
        ['PLAN:11:42: workloads.0.message.size.min: min (2048) is larger than max (1024)'],
        id="uniform-order",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message:\n      payload_file: nothere.txt\n"),
        ['PLAN:11:21: workloads.0.message.payload_file: no such file: DIR/nothere.txt'],
        id="payload-missing",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: publish_latency.p98\n    threshold: 10\n",
        ["PLAN:19:13: slos.0.metric: unknown metric 'publish_latency.p98'; see the metric list in docs/plan.md"],
        id="metric-unknown",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: publish_latency.p99\n    threshold: [10]\n",
        ['PLAN:20:16: slos.0.threshold: expected a number or a string, got a list'],
        id="threshold-list",
    ),
    pytest.param(
        BASE.replace("    kind: consumer\n", "    kind: consumer\n    properties:\n      fetch.min.bytes: [1]\n"),
        ['PLAN:13:24: workloads.1.properties.fetch.min.bytes: expected a string, an integer, a number or a boolean (true or false), got a list'],
        id="property-list",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  kind: existing\n  bootstrap_servers: [localhost:9092]\n  security:\n    protocol: SASL_SSL\n    sasl: {username: u, password_env: my-pass}\nmetadata:"),
        ["PLAN:6:39: target.security.sasl.password_env: must be the name of an environment variable (letters, digits and '_'), got 'my-pass'"],
        id="envvar",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  kind: existing\n  bootstrap_servers: [localhost:9092]\n  security:\n    protocol: SASL_SSL\nmetadata:"),
        ["PLAN:4:3: target.security.sasl: protocol SASL_SSL needs a 'sasl' section"],
        id="sasl-missing",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  kind: existing\n  bootstrap_servers: [localhost]\nmetadata:"),
        ["PLAN:3:23: target.bootstrap_servers.0: must be host:port, got 'localhost'"],
        id="bootstrap-bad",
    ),
    pytest.param(
        BASE.replace("metadata:", "target: local\nmetadata:"),
        ["PLAN:1:9: target: expected a mapping with 'kind' (local, existing, provisioned), got 'local'"],
        id="target-scalar",
    ),
    pytest.param(
        BASE.replace("workloads:\n", "workloads:\n  - producer\n"),
        ["PLAN:6:5: workloads.0: expected a mapping, got 'producer'"],
        id="workload-scalar",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    min_insync_replicas: 2\n"),
        ['PLAN:5:26: topics.0.min_insync_replicas: min_insync_replicas (2) exceeds replication_factor (1)'],
        id="isr",
    ),
    pytest.param(
        BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    acks: 2\n"),
        ['PLAN:10:11: workloads.0.acks: expected one of 0, 1, all, got 2'],
        id="acks-int",
    ),
    pytest.param(
        BASE + "slos:\n",
        ['PLAN:17:6: slos: expected a list, got nothing (null)'],
        id="null-section",
    ),
    pytest.param(
        BASE.replace("    kind: steady\n    duration: 10s\n", "    kind: ramp\n    duration: 10s\n    from: max\n    to: 2k/s\n"),
        ["PLAN:17:11: phases.0.from: a ramp needs numeric rates such as '1k/s', not 'max'"],
        id="ramp-max",
    ),
    pytest.param(
        BASE.replace("    kind: steady\n    duration: 10s\n", "    kind: ramp\n    duration: 10s\n    from: 1k/s\n"),
        ['PLAN:14:5: phases.0.to: missing required key'],
        id="ramp-missing-to",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    partitions: -1\n"),
        ['PLAN:5:17: topics.0.partitions: must be greater than or equal to 1, got -1'],
        id="negative-int",
    ),
    pytest.param(
        BASE.replace("  - name: orders\n", "  - name: orders\n    partitions: 2.5\n"),
        ['PLAN:5:17: topics.0.partitions: expected an integer, got 2.5'],
        id="float-partitions",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: publish_latency.p99\n    threshold: 5k/s\n",
        ["PLAN:20:16: slos.0.threshold: threshold '5k/s': expected a duration such as '30s', '5m', '2h' or '7d', got '5k/s'"],
        id="threshold-unit-mismatch",
    ),
    pytest.param(
        BASE + "slos:\n  - name: x\n    metric: produce.rate\n    threshold: lots\n",
        ["PLAN:20:16: slos.0.threshold: threshold 'lots' is not a number with a unit"],
        id="threshold-not-a-number",
    ),
    pytest.param(
        BASE.replace("    kind: consumer\n", "    kind: consumer\n    rate: 1k/s\n"),
        ["PLAN:12:5: workloads.1.rate: unknown key 'rate'; it is a key of kind 'producer'"],
        id="key-of-another-kind",
    ),
    pytest.param(
        BASE.replace("metadata:", "target:\n  bootstrap_servers: ['k:9092']\nmetadata:"),
        ["PLAN:2:3: target.bootstrap_servers: unknown key 'bootstrap_servers'; it is a key of kind 'existing'"],
        id="target-kind-forgotten",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rejected(reject, text: str, expected: list[str]) -> None:
    assert reject(text) == expected


def test_size_and_payload(reject, write_plan) -> None:
    write_plan("line\n", name="payloads.txt")
    text = BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message:\n      size: 1KiB\n      payload_file: payloads.txt\n")
    assert reject(text) == [
        "PLAN:12:21: workloads.0.message.payload_file: give either 'size' or 'payload_file', not both",
    ]
