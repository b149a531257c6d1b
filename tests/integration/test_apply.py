"""``orchestrate apply`` end to end against real brokers, with the native runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.execute.local_kafka import LocalKafka
from tests.integration.interrupt import acknowledged, interrupted_apply

pytestmark = pytest.mark.integration

SECRET = "pw-7f3a9c1e-never-written"


def write_plan(path: Path, target: dict, topic: str, slos: list[dict], steady: str = "6s") -> Path:
    plan = {
        "metadata": {"name": "it-apply"},
        "target": target,
        "topics": [{"name": topic, "partitions": 2, "delete_after": True}],
        "workloads": [
            {"name": "prod", "kind": "producer", "topic": topic, "rate": "200/s", "message": {"size": "100B"}},
            # idle this long before the consumer concludes it has everything: a loaded CI machine
            # can stall the broker for seconds, and stopping early would count messages as lost
            {"name": "cons", "kind": "consumer", "topic": topic, "drain": "10s"},
        ],
        "phases": [{"name": "warm", "kind": "warmup", "duration": "2s"},
                   {"name": "hold", "kind": "steady", "duration": steady}],
        "slos": slos,
        "monitors": {"kafka_admin": {"interval": "2s"}},
    }
    path.write_text(yaml.safe_dump(plan))
    return path


def existing(cluster, **security) -> dict:
    return {"kind": "existing", "bootstrap_servers": cluster.bootstrap_servers.split(","), **security}


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def by_name(data: dict) -> dict[str, dict]:
    return {w["name"]: w for w in data["workloads"]}


LOST_NONE = {"name": "nothing-lost", "metric": "consume.lost", "op": "<=", "threshold": 0}


def test_local_apply_passes_and_counts_agree(tmp_path, topic_name) -> None:
    plan = write_plan(tmp_path / "plan.yaml", {"kind": "local", "heap": "512MiB"}, topic_name, [LOST_NONE])
    run = tmp_path / "run"
    assert main(["apply", str(plan), "--run-dir", str(run)]) == 0
    data = summary(run)
    prod, cons = by_name(data)["prod"], by_name(data)["cons"]
    assert data["verdict"] == "pass" and data["run"]["status"] == "completed"
    assert prod["messages"] > 0 and prod["errors"] == 0
    assert cons["messages"] == prod["messages"]
    assert cons["lost"] == 0 and cons["duplicated"] == 0
    assert (run / "junit.xml").exists() and (run / "report" / "index.html").exists()
    assert [p["name"] for p in data["phases"]] == ["warm", "hold"]
    own = data["environment"]["orchestrator"]  # apply's own cost while the load ran
    assert own["cpu_s"] > 0 and own["max_rss_mb"] > 0 and own["ready_to_load_s"] > 0


def test_unreachable_slo_exits_1_and_still_reports(tmp_path, kafka_broker, topic_name) -> None:
    impossible = {"name": "impossible", "metric": "publish_latency.p99", "op": "<=", "threshold": "1us"}
    plan = write_plan(tmp_path / "plan.yaml", existing(kafka_broker), topic_name, [LOST_NONE, impossible])
    run = tmp_path / "run"
    assert main(["apply", str(plan), "--run-dir", str(run)]) == 1
    verdicts = {s["name"]: s["verdict"] for s in summary(run)["slos"]}
    assert verdicts == {"nothing-lost": "pass", "impossible": "fail"}
    assert "impossible" in (run / "junit.xml").read_text()
    assert (run / "report" / "index.html").exists()


def test_sigint_keeps_raw_results_and_writes_a_partial_report(tmp_path, kafka_broker, topic_name) -> None:
    plan = write_plan(tmp_path / "plan.yaml", existing(kafka_broker), topic_name, [LOST_NONE], steady="5m")
    run = tmp_path / "run"
    code, out, err = interrupted_apply(
        [str(plan), "--run-dir", str(run)], lambda: acknowledged(run, "prod"))
    assert code == 130, err
    assert out.splitlines()[-1].startswith("INTERRUPTED: partial report")  # after the progress lines
    data = summary(run)
    assert data["run"]["status"] == "interrupted"
    assert by_name(data)["prod"]["messages"] > 0
    # the producer stopped first and the consumer read what it had acknowledged
    assert (by_name(data)["cons"]["lost"], by_name(data)["cons"]["duplicated"]) == (0, 0)
    assert (run / "report" / "index.html").exists()


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory):
    """A broker whose client listener wants SASL/PLAIN with user 'admin' and password SECRET."""
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="admin" password="{SECRET}" user_admin="{SECRET}";')
    broker = LocalKafka("4.1.1", tmp_path_factory.mktemp("sasl-broker"), heap=384 * 1024**2, properties={
        "listener.security.protocol.map": "PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN", "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "listener.name.plaintext.plain.sasl.jaas.config": jaas,
    }, client_config={"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                      "sasl.username": "admin", "sasl.password": SECRET})
    cluster = broker.start()
    yield cluster
    broker.stop()


def test_sasl_secret_from_the_environment_is_nowhere_in_the_run_dir(tmp_path, sasl_broker, topic_name,
                                                                    monkeypatch) -> None:
    monkeypatch.setenv("IT_KAFKA_PASSWORD", SECRET)
    security = {"security": {"protocol": "SASL_PLAINTEXT",
                             "sasl": {"mechanism": "PLAIN", "username": "admin", "password_env": "IT_KAFKA_PASSWORD"}}}
    plan = write_plan(tmp_path / "plan.yaml", existing(sasl_broker, **security), topic_name, [LOST_NONE])
    run = tmp_path / "run"
    assert main(["apply", str(plan), "--run-dir", str(run)]) == 0
    assert by_name(summary(run))["cons"]["messages"] > 0
    leaks = [str(p) for p in run.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert "IT_KAFKA_PASSWORD" in (run / "plan.resolved.yaml").read_text()


def test_abort_slo_ends_the_run_early_with_exit_1(tmp_path, kafka_broker, topic_name) -> None:
    unreachable = {"name": "too-slow", "metric": "produce.rate", "op": ">=", "threshold": "1M/s", "abort": True}
    plan = write_plan(tmp_path / "plan.yaml", existing(kafka_broker), topic_name, [unreachable], steady="10m")
    run = tmp_path / "run"
    assert main(["apply", str(plan), "--run-dir", str(run)]) == 1
    data = summary(run)
    assert data["run"]["status"] == "aborted"
    assert [s["aborted_run"] for s in data["slos"]] == [True]
    hold = next(p for p in data["phases"] if p["name"] == "hold")
    assert hold["end"] - hold["start"] < 600
