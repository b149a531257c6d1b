import json
import sys

import pytest

from orchestrator.errors import RunError
from orchestrator.execute import log_dirs
from orchestrator.cluster import Cluster
from orchestrator.execute.log_dirs import Cancelled, LogDirsCommand, parse_log_dirs, refusal

ANSWER = {"version": 1, "brokers": [
    {"broker": 1, "logDirs": [
        {"logDir": "/d1", "error": None, "partitions": [
            {"partition": "orders-0", "size": 100, "offsetLag": 0, "isFuture": False},
            {"partition": "orders-1", "size": 50, "offsetLag": 0, "isFuture": False}]},
        {"logDir": "/d2", "error": None, "partitions": [
            {"partition": "orders-0", "size": 7, "offsetLag": 0, "isFuture": False},
            {"partition": "orders-1", "size": 999, "offsetLag": 0, "isFuture": True}]}]},
    {"broker": 2, "logDirs": [{"logDir": "/d1", "error": "KafkaStorageException", "partitions": []}]}]}
OUTPUT = ("Querying brokers for log directories information\n"
          "Received log directory information from brokers 1,2\n" + json.dumps(ANSWER) + "\n")


def _command(tmp_path, monkeypatch, script: str, timeout: float = 20.0) -> LogDirsCommand:
    """A LogDirsCommand whose tool is a Python script standing in for the JVM."""
    monkeypatch.setattr(log_dirs, "java_binary", lambda: sys.executable)
    monkeypatch.setattr(log_dirs, "java_classpath", lambda version: str(tmp_path / "*"))
    command = LogDirsCommand(Cluster("127.0.0.1:1", [], "4.1.1"), ["orders"], timeout)
    command.command = [sys.executable, "-c", script]
    return command


def test_parse_sums_each_partition_over_log_dirs_and_skips_future_replicas():
    sizes, errors = parse_log_dirs(OUTPUT)
    assert sizes == {"1": {"orders-0": 107, "orders-1": 50}, "2": {}}
    assert errors == ["broker 2 /d1: KafkaStorageException"]


def test_parse_without_a_json_line_is_a_run_error():
    with pytest.raises(RunError, match="no JSON line"):
        parse_log_dirs("Querying brokers for log directories information\n")


def test_parse_of_json_in_another_shape_is_a_run_error():
    with pytest.raises(RunError, match="unexpected JSON"):
        parse_log_dirs('{"brokers": [{"id": 1}]}\n')


def test_command_asks_for_the_plan_topics_with_the_default_jars_for_an_unknown_version(monkeypatch):
    versions = []
    monkeypatch.setattr(log_dirs, "java_binary", lambda: "/usr/bin/java")
    monkeypatch.setattr(log_dirs, "java_classpath", lambda version: versions.append(version) or "/libs/*")
    command = LogDirsCommand(Cluster("127.0.0.1:9092", [], "unknown"), ["a", "b"])
    assert command.command[0] == "/usr/bin/java"
    assert command.command[-8:] == ["-cp", "/libs/*", "org.apache.kafka.tools.LogDirsCommand",
                                    "--bootstrap-server", "127.0.0.1:9092", "--describe", "--topic-list", "a,b"]
    assert versions == ["4.1.1"]


def test_run_returns_the_parsed_answer(tmp_path, monkeypatch):
    command = _command(tmp_path, monkeypatch, f"import sys; sys.stdout.write({OUTPUT!r})")
    assert command.run() == parse_log_dirs(OUTPUT)


def test_a_failing_tool_is_a_run_error_with_its_last_stderr_line(tmp_path, monkeypatch):
    command = _command(tmp_path, monkeypatch, "import sys; sys.stderr.write('warn\\nTimeoutException: no broker\\n'); sys.exit(1)")
    with pytest.raises(RunError, match="LogDirsCommand: TimeoutException: no broker$"):
        command.run()


def test_a_tool_that_does_not_answer_in_time_is_killed_and_a_run_error(tmp_path, monkeypatch):
    command = _command(tmp_path, monkeypatch, "import time; time.sleep(60)", timeout=0.5)
    with pytest.raises(RunError, match="no answer within 0.5s"):
        command.run()


def test_a_cancelled_command_does_not_start_the_tool(tmp_path, monkeypatch):
    command = _command(tmp_path, monkeypatch, "raise SystemExit(3)")
    command.cancel()
    with pytest.raises(RunError, match="cancelled"):
        command.run()


def test_a_command_cancelled_while_running_is_cancelled_not_failed(tmp_path, monkeypatch):
    import threading

    command = _command(tmp_path, monkeypatch, "import time; time.sleep(60)")
    threading.Timer(0.5, command.cancel).start()
    with pytest.raises(Cancelled):
        command.run()


@pytest.mark.parametrize(("cluster", "reason"), [
    (Cluster("b:1", [], "4.1.1", secret_env={"sasl.password": "PW"}), "secrets"),
    (Cluster("b:1", [], "4.1.1", client_config={"security.protocol": "SSL"}), "PLAINTEXT"),
])
def test_clusters_needing_secrets_or_tls_are_refused(cluster, reason):
    assert reason in refusal(cluster)


def test_a_plaintext_cluster_without_secrets_is_not_refused():
    assert refusal(Cluster("b:1", [], "4.1.1", client_config={"security.protocol": "PLAINTEXT"})) is None
