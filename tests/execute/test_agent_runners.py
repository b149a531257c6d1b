from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from orchestrator.errors import EngineError
from orchestrator.cluster import Cluster
from orchestrator.execute import agent_runners
from orchestrator.execute.agent_runners import HEARTBEAT_STALE_S, AgentRunners
from orchestrator.execute.native import NativeWorkload
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.remote.secrets import SECRETS_PROMPT, check_secrets
from orchestrator.plan.models import Plan
from orchestrator.remote.ansible import PlaybookResult
from orchestrator.rundir import RunDir

SECRET = "pa55-w0rd-xyz"
SECURED = Cluster("127.0.0.1:1", [], "4.1.1", client_config={"security.protocol": "SASL_PLAINTEXT"},
                  secret_env={"sasl.password": "REMOTE_TEST_PASSWORD"})
PLAIN = Cluster("127.0.0.1:1", [], "4.1.1")


def make_plan(kind: str = "producer", security: dict | None = None) -> Plan:
    hosts = [{"name": "b1", "address": "127.0.0.1", "roles": ["broker"], "connection": "local"},
             {"name": "a1", "address": "127.0.0.1", "roles": ["agent"], "connection": "local"}]
    return Plan.model_validate({
        "metadata": {"name": "remote"},
        "target": {"kind": "provisioned", **({"security": security} if security else {})},
        "inventory": {"hosts": hosts}, "provision": {},
        "topics": [{"name": "t"}],
        "workloads": [{"name": "w", "kind": kind, "topic": "t", "agents": ["a1"], "instances": 2}],
        "phases": [{"name": "s", "kind": "steady", "duration": "5s"}],
    })


SASL = {"protocol": "SASL_PLAINTEXT", "sasl": {"username": "u", "password_env": "REMOTE_TEST_PASSWORD"}}


@dataclass
class FakeJob:
    result: PlaybookResult
    running: bool = False

    def wait(self) -> PlaybookResult:
        return self.result


STREAM_SCRIPT = Path(__file__).resolve().parents[2] / "playbooks" / "roles" / "agent" / "files" / "load_stream.py"


@dataclass
class FakeProvisioner:
    """Records playbook runs; start answers as load_start.yml does for an agent whose run directory
    is ``agent_dir`` on this machine, where the real load_stream.py then follows the instances."""

    agent_dir: Path
    calls: list[tuple[str, dict[str, object], dict[str, str] | None]] = field(default_factory=list)
    command: list[str] | None = None  # instead of the stream's own command line

    def layout(self):
        from orchestrator.remote.inventory import layout

        return layout(make_plan(), Path("/state"))

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None) -> PlaybookResult:
        self.calls.append((ident, dict(extravars or {}), None))
        return PlaybookResult(playbook)

    def start(self, playbook: str, ident: str, extravars: dict[str, object], answers=None) -> FakeJob:
        self.calls.append((ident, dict(extravars), answers))
        self.agent_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(STREAM_SCRIPT, self.agent_dir / "load_stream.py")
        names = [i["name"] for i in extravars["load_specs"]["a1"]]  # type: ignore[index]
        for name in names:
            set_job(self.agent_dir, name, None)
        return FakeJob(PlaybookResult(playbook, facts={"a1": {
            "load_results": [str(self.agent_dir / f"{n}.job") for n in names],
            "load_run_dir": str(self.agent_dir), "load_python": sys.executable}}))

    def command_on(self, host: str, argv: list[str]) -> list[str]:
        assert host == "a1"
        return self.command or argv


def set_job(agent_dir: Path, name: str, rc: int | None) -> None:
    """The instance's Ansible async results file: running (rc None) or finished with ``rc``."""
    state = {"started": 1, "finished": 0} if rc is None else {"finished": 1, "rc": rc}
    (agent_dir / f"{name}.job").write_text(json.dumps(state))


def append(agent_dir: Path, name: str, text: str) -> None:
    with (agent_dir / f"{name}.jsonl").open("a") as out:
        out.write(text)


def workload(tmp_path: Path, plan: Plan, provisioner: FakeProvisioner) -> NativeWorkload:
    run = RunDir.create("remote", explicit=tmp_path / "run")
    agents = AgentRunners(plan.workloads[0].name, ["a1"], run,
                          HostPlaybooks(plan, tmp_path / "plan.yaml", tmp_path / "ansible"), plan.total_duration)
    agents.provisioner = provisioner  # type: ignore[assignment]
    return NativeWorkload(plan, plan.workloads[0], run, agents)


def interval(ts: float, count: int, errors: int = 0, key: str = "acked") -> str:
    return json.dumps({"type": "interval", "ts": ts, "start": ts - 1.0, key: count, "errors": errors})


def test_a_missing_secret_variable_is_named_before_anything_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REMOTE_TEST_PASSWORD", raising=False)
    provisioner = FakeProvisioner(tmp_path / "agent")
    w = workload(tmp_path, make_plan(security=SASL), provisioner)
    with pytest.raises(EngineError, match="^environment variable REMOTE_TEST_PASSWORD is not set"):
        w.prepare(SECURED)
    assert provisioner.calls == []


def test_check_secrets_refuses_a_plan_whose_agents_lack_a_secret(monkeypatch) -> None:
    monkeypatch.delenv("REMOTE_TEST_PASSWORD", raising=False)
    with pytest.raises(EngineError, match="REMOTE_TEST_PASSWORD"):
        check_secrets(make_plan(security=SASL))


def test_check_secrets_accepts_a_plan_whose_secrets_are_set(monkeypatch) -> None:
    monkeypatch.setenv("REMOTE_TEST_PASSWORD", SECRET)
    check_secrets(make_plan(security=SASL))


def test_secrets_travel_only_as_the_prompt_answer(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REMOTE_TEST_PASSWORD", SECRET)
    provisioner = FakeProvisioner(tmp_path / "agent")
    w = workload(tmp_path, make_plan(security=SASL), provisioner)
    w.prepare(SECURED)
    w.start()
    ident, extravars, answers = provisioner.calls[-1]
    assert ident == "load-w-start" and answers == {SECRETS_PROMPT: json.dumps({"REMOTE_TEST_PASSWORD": SECRET})}
    assert SECRET not in json.dumps(extravars) and "load_secret_env" not in extravars


def test_rendered_specs_name_the_variable_not_the_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REMOTE_TEST_PASSWORD", SECRET)
    w = workload(tmp_path, make_plan(security=SASL), FakeProvisioner(tmp_path / "agent"))
    w.prepare(SECURED)
    w.start()
    specs = [p.read_text() for p in (w.run.rendered / "native" / "w").glob("*.json")]
    assert len(specs) == 2 and all("REMOTE_TEST_PASSWORD" in s and SECRET not in s for s in specs)


def test_without_secrets_every_action_answers_the_prompt_with_an_empty_object(tmp_path) -> None:
    provisioner = FakeProvisioner(tmp_path / "agent")
    w = workload(tmp_path, make_plan(), provisioner)
    w.prepare(PLAIN)
    w.start()
    assert [(c[1]["load_secret_env"], c[2]) for c in provisioner.calls] == [("{}", None), ("{}", None)]


@pytest.fixture(autouse=True)
def quick_streams(monkeypatch) -> None:
    monkeypatch.setattr(agent_runners, "STREAM_EVERY_S", 0.05)
    monkeypatch.setattr(agent_runners, "RECONNECT_AFTER_S", 0.0)


def started(tmp_path: Path, kind: str, command: list[str] | None = None) -> tuple[NativeWorkload, Path]:
    agent_dir = tmp_path / "agent"
    w = workload(tmp_path, make_plan(kind), FakeProvisioner(agent_dir, command=command))
    w.prepare(PLAIN)
    w.start()
    return w, agent_dir


def poll_until(w: NativeWorkload, done) -> bool:
    """Polls as the pipeline's loop does until ``done()``; the last poll's answer."""
    deadline = time.monotonic() + 60
    while True:
        running = w.poll()
        if done():
            return running
        assert time.monotonic() < deadline, "the stream never delivered"
        time.sleep(0.02)


def stop_streams(w: NativeWorkload) -> None:
    for agent in w.transport._followed.values():  # type: ignore[attr-defined]
        if agent.stream is not None:
            agent.stream.close()


def test_live_rates_come_from_the_newest_interval_of_each_instance(tmp_path) -> None:
    w, agent = started(tmp_path, "producer")
    append(agent, "w-0", interval(10, 100) + "\n" + interval(11, 150) + "\n")
    append(agent, "w-1", interval(11, 50) + "\n")
    assert poll_until(w, lambda: w.live_stats().produced_per_s == 200.0)
    assert w.live_stats().consumed_per_s == 0.0
    stop_streams(w)


def test_consumer_rates_count_received_messages(tmp_path) -> None:
    w, agent = started(tmp_path, "consumer")
    append(agent, "w-0", interval(11, 30, key="received") + "\n")
    append(agent, "w-1", interval(11, 20, key="received") + "\n")
    poll_until(w, lambda: w.live_stats().consumed_per_s == 50.0)
    assert w.live_stats().produced_per_s == 0.0
    stop_streams(w)


def test_a_record_still_being_written_arrives_once_complete(tmp_path) -> None:
    w, agent = started(tmp_path, "producer")
    append(agent, "w-0", interval(11, 100) + "\n" + interval(12, 300)[:10])
    poll_until(w, lambda: w.live_stats().produced_per_s == 100.0)
    append(agent, "w-0", interval(12, 300)[10:] + "\n")
    poll_until(w, lambda: w.live_stats().produced_per_s == 300.0)
    stop_streams(w)


def test_a_dropped_session_is_reopened_where_it_stopped_and_counts_nothing_twice(tmp_path) -> None:
    w, agent = started(tmp_path, "producer")
    append(agent, "w-0", interval(10, 100, errors=2) + "\n" + interval(11, 100, errors=1) + "\n")
    poll_until(w, lambda: w.live_stats().errors == 3)
    followed = w.transport._followed["a1"]  # type: ignore[attr-defined]
    followed.stream.process.kill()  # the connection drops
    poll_until(w, lambda: followed.stream is None)
    append(agent, "w-0", interval(12, 100, errors=4) + "\n")
    poll_until(w, lambda: w.live_stats().errors == 7)
    assert followed.instances["w-0"].offset == (agent / "w-0.jsonl").stat().st_size
    stop_streams(w)


def test_the_run_goes_on_until_every_runner_finished_then_rates_drop_to_zero(tmp_path) -> None:
    w, agent = started(tmp_path, "producer")
    append(agent, "w-0", interval(11, 100) + "\n")
    append(agent, "w-1", interval(11, 100) + "\n")
    set_job(agent, "w-0", 0)
    assert poll_until(w, lambda: w.transport._followed["a1"].instances["w-0"].finished)  # type: ignore[attr-defined]
    set_job(agent, "w-1", 0)
    followed = w.transport._followed["a1"]  # type: ignore[attr-defined]
    assert not poll_until(w, lambda: followed.stream is None)  # the stream ended by itself
    assert not followed.following and followed.failures == 0
    assert w.live_stats().produced_per_s == 0.0


def test_a_failed_runner_fails_the_run_naming_it(tmp_path) -> None:
    w, agent = started(tmp_path, "producer")
    set_job(agent, "w-0", 0)
    set_job(agent, "w-1", 2)
    with pytest.raises(EngineError, match="instance 1 on agent a1: runner exited with status 2"):
        poll_until(w, lambda: False)
    stop_streams(w)


def test_an_agent_that_cannot_be_reached_fails_the_run_naming_it_and_why(tmp_path) -> None:
    refused = ["sh", "-c", "echo 'ssh: connect to host 10.0.0.9 port 22: Connection refused' >&2; exit 255"]
    w, _ = started(tmp_path, "producer", command=refused)
    with pytest.raises(EngineError, match="^workload w: lost agent a1: ssh: connect to host 10.0.0.9 port 22: "
                                          "Connection refused$"):
        poll_until(w, lambda: False)


def test_while_the_runners_start_a_poll_does_not_wait(tmp_path) -> None:
    w, _ = started(tmp_path, "producer")
    w.transport._starting.running = True  # type: ignore[union-attr]
    assert w.poll()
    assert w.transport._followed["a1"].stream is None  # type: ignore[attr-defined]


def test_the_stream_sends_records_and_states_touches_the_heartbeat_and_ends(tmp_path) -> None:
    (tmp_path / "w-0.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    set_job(tmp_path, "w-0", 0)
    done = subprocess.run([sys.executable, str(STREAM_SCRIPT), str(tmp_path), "0.05",
                           f"w-0={tmp_path / 'w-0.job'}=9"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ['R w-0 18 {"a": 2}', "S w-0 0", "E"]  # from byte 9 on
    assert (tmp_path / "heartbeat").exists()


def test_the_stream_ends_when_apply_is_gone(tmp_path) -> None:
    set_job(tmp_path, "w-0", None)
    stream = subprocess.Popen([sys.executable, str(STREAM_SCRIPT), str(tmp_path), "0.05",
                               f"w-0={tmp_path / 'w-0.job'}=0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert stream.stdout.readline() == b"H\n"
    stream.stdout.close()  # apply's end of the pipe
    assert stream.wait(timeout=60) == 0
    assert stream.stderr.read() == b""


# ---------------------------------------------------------------- the agents' heartbeat watcher

WATCHER = Path(__file__).resolve().parents[2] / "playbooks" / "roles" / "agent" / "files" / "load_watch.sh"


def _runner(seconds: float) -> psutil.Process:
    """A stand-in runner that, like one under Ansible's async wrapper, is not our child (a child of
    ours that ends stays a zombie until we reap it, and kill -0 still finds it)."""
    shell = subprocess.run(["sh", "-c", f"sleep {seconds} >/dev/null 2>&1 & echo $!"], capture_output=True, text=True,
                           check=True, timeout=60)
    return psutil.Process(int(shell.stdout))


def _watch(run_dir: Path, stale_s: int, runners: dict[str, psutil.Process]) -> subprocess.CompletedProcess:
    for name, proc in runners.items():
        (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return subprocess.run([str(WATCHER), str(run_dir), str(stale_s), *runners], capture_output=True, text=True,
                          env={**os.environ, "LOAD_WATCH_EVERY_S": "0.2"}, timeout=120)


def test_the_watcher_stops_the_runners_when_apply_stops_beating(tmp_path) -> None:
    runners = {f"w-{i}": _runner(300) for i in range(2)}
    try:
        done = _watch(tmp_path, 1, runners)  # nobody touches the heartbeat: it goes stale
        assert done.returncode == 0 and "runners stopped" in done.stdout
        _, alive = psutil.wait_procs(list(runners.values()), timeout=60)
        assert alive == []
    finally:
        for proc in runners.values():
            if proc.is_running():
                proc.kill()


def test_the_watcher_ends_with_the_runners_while_the_heartbeat_is_fresh(tmp_path) -> None:
    done = _watch(tmp_path, 3600, {"w-0": _runner(0.5)})
    assert done.returncode == 0 and done.stdout == ""


def test_start_tells_the_watcher_how_stale_a_heartbeat_may_get(tmp_path) -> None:
    w, _ = started(tmp_path, "producer")
    start_vars = next(extra for _, extra, _ in w.transport.provisioner.calls if extra["load_action"] == "start")  # type: ignore[attr-defined]
    assert start_vars["load_heartbeat_stale"] == HEARTBEAT_STALE_S
