import signal
import time

import pytest

from tests.runner.processes import live_spec, read_records, start_runner, write_spec


def test_invalid_spec_exits_2_with_one_line(tmp_path, spec_dict):
    path = write_spec(tmp_path / "spec.json", {**spec_dict, "role": "both"})
    proc = start_runner(path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [f"runner: {path}: role: must be one of producer, consumer, got 'both'"]


def test_unreachable_broker_ends_with_an_error_record(tmp_path, spec_dict):
    spec = {**spec_dict, "bootstrap_servers": "127.0.0.1:1", "connect_timeout_s": 1.0}
    proc = start_runner(write_spec(tmp_path / "spec.json", spec))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "no broker answered within 1s" in err.strip().splitlines()[-1]
    end = read_records(spec["output"])[-1]
    assert (end["type"], end["reason"]) == ("end", "error")


def test_missing_secret_env_is_an_error(tmp_path, spec_dict, monkeypatch):
    monkeypatch.delenv("ORCH_TEST_ABSENT_SECRET", raising=False)
    spec = {**spec_dict, "secret_env": {"sasl.password": "ORCH_TEST_ABSENT_SECRET"}}
    proc = start_runner(write_spec(tmp_path / "spec.json", spec))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "ORCH_TEST_ABSENT_SECRET" in err


@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_flushes_what_was_measured_and_exits_0(tmp_path, spec_dict, kafka_broker, make_topic, signum):
    schedule = [{"name": "long", "kind": "steady", "duration_s": 120, "rate_from": 500, "rate_to": 500}]
    spec = live_spec(spec_dict, kafka_broker, make_topic(), "producer", schedule=schedule)
    proc = start_runner(write_spec(tmp_path / "spec.json", spec))
    deadline = time.time() + 60
    while time.time() < deadline and sum(r["type"] == "interval" for r in _records(spec)) < 2:
        time.sleep(0.2)
    proc.send_signal(signum)
    proc.communicate(timeout=60)
    records = read_records(spec["output"])
    end = records[-1]
    assert proc.returncode == 0
    assert (end["type"], end["reason"]) == ("end", "signal")
    assert 0 < end["sent"] == end["acked"] == sum(r["acked"] for r in records if r["type"] == "interval")


def _records(spec):
    try:
        return read_records(spec["output"])
    except FileNotFoundError:
        return []


@pytest.mark.integration
def test_every_producer_interval_says_what_is_in_flight(tmp_path, spec_dict, kafka_broker, make_topic):
    schedule = [{"name": "short", "kind": "steady", "duration_s": 3, "rate_from": 500, "rate_to": 500}]
    spec = live_spec(spec_dict, kafka_broker, make_topic(), "producer", schedule=schedule)
    proc = start_runner(write_spec(tmp_path / "spec.json", spec))
    proc.communicate(timeout=60)
    intervals = [r for r in read_records(spec["output"]) if r["type"] == "interval"]
    sent = done = 0
    for r in intervals:
        sent, done = sent + r["sent"], done + r["acked"] + r["errors"]
        assert r["in_flight"] == sent - done and r["oldest_in_flight_ms"] >= 0
    assert intervals[-1]["in_flight"] == 0 and intervals[-1]["oldest_in_flight_ms"] == 0
