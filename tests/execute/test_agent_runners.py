from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from orchestrator.errors import EngineError
from orchestrator.cluster import Cluster
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


@dataclass
class FakeProvisioner:
    """Records playbook runs; polls answer with the queued facts (host -> facts)."""

    polls: list[dict[str, dict[str, object]]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, object], dict[str, str] | None]] = field(default_factory=list)

    def layout(self):
        from orchestrator.remote.inventory import layout

        return layout(make_plan(), Path("/state"))

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None) -> PlaybookResult:
        self.calls.append((ident, dict(extravars or {}), None))
        return PlaybookResult(playbook)

    def start(self, playbook: str, ident: str, extravars: dict[str, object], answers=None) -> FakeJob:
        self.calls.append((ident, dict(extravars), answers))
        if ident.endswith("-poll"):
            return FakeJob(PlaybookResult(playbook, facts=self.polls.pop(0)))
        return FakeJob(PlaybookResult(playbook, facts={"a1": {"load_jobs": ["j0", "j1"]}}))


def workload(tmp_path: Path, plan: Plan, provisioner: FakeProvisioner) -> NativeWorkload:
    run = RunDir.create("remote", explicit=tmp_path / "run")
    agents = AgentRunners(plan.workloads[0].name, ["a1"], run,
                          HostPlaybooks(plan, tmp_path / "plan.yaml", tmp_path / "ansible"), plan.total_duration)
    agents.provisioner = agents._quiet = provisioner  # type: ignore[assignment]
    return NativeWorkload(plan, plan.workloads[0], run, agents)


def interval(ts: float, count: int, errors: int = 0, key: str = "acked") -> str:
    return json.dumps({"type": "interval", "ts": ts, "start": ts - 1.0, key: count, "errors": errors})


def poll_answer(tails: list[str], finished: tuple[int, int] = (0, 0)) -> dict[str, dict[str, object]]:
    return {"a1": {"load_tails": tails, "load_states": [[f, 0 if f else ""] for f in finished]}}


def test_a_missing_secret_variable_is_named_before_anything_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REMOTE_TEST_PASSWORD", raising=False)
    provisioner = FakeProvisioner()
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
    provisioner = FakeProvisioner()
    w = workload(tmp_path, make_plan(security=SASL), provisioner)
    w.prepare(SECURED)
    w.start()
    ident, extravars, answers = provisioner.calls[-1]
    assert ident == "load-w-start" and answers == {SECRETS_PROMPT: json.dumps({"REMOTE_TEST_PASSWORD": SECRET})}
    assert SECRET not in json.dumps(extravars) and "load_secret_env" not in extravars


def test_rendered_specs_name_the_variable_not_the_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REMOTE_TEST_PASSWORD", SECRET)
    w = workload(tmp_path, make_plan(security=SASL), FakeProvisioner())
    w.prepare(SECURED)
    w.start()
    specs = [p.read_text() for p in (w.run.rendered / "native" / "w").glob("*.json")]
    assert len(specs) == 2 and all("REMOTE_TEST_PASSWORD" in s and SECRET not in s for s in specs)


def test_without_secrets_every_action_answers_the_prompt_with_an_empty_object(tmp_path) -> None:
    provisioner = FakeProvisioner()
    w = workload(tmp_path, make_plan(), provisioner)
    w.prepare(PLAIN)
    w.start()
    assert [(c[1]["load_secret_env"], c[2]) for c in provisioner.calls] == [("{}", None), ("{}", None)]


def started(tmp_path: Path, kind: str, polls: list[dict[str, dict[str, object]]]) -> NativeWorkload:
    w = workload(tmp_path, make_plan(kind), FakeProvisioner(polls=polls))
    w.prepare(PLAIN)
    w.start()
    return w


def poll_once(w: NativeWorkload) -> bool:
    """One poll playbook, as the pipeline's loop sees it: launched by one poll(), read by the next."""
    w.transport._next_poll = 0.0  # type: ignore[attr-defined]
    assert w.poll()
    w.transport._next_poll = float("inf")  # type: ignore[attr-defined]
    return w.poll()


def test_live_rates_come_from_the_newest_interval_of_each_instance(tmp_path) -> None:
    w = started(tmp_path, "producer", [poll_answer([interval(10, 100) + "\n" + interval(11, 150), interval(11, 50)])])
    assert poll_once(w)
    stats = w.live_stats()
    assert (stats.produced_per_s, stats.consumed_per_s) == (200.0, 0.0)


def test_consumer_rates_count_received_messages(tmp_path) -> None:
    w = started(tmp_path, "consumer", [poll_answer([interval(11, 30, key="received"), interval(11, 20, key="received")])])
    poll_once(w)
    assert (w.live_stats().produced_per_s, w.live_stats().consumed_per_s) == (0.0, 50.0)


def test_errors_in_overlapping_tails_are_counted_once(tmp_path) -> None:
    first = interval(10, 100, errors=2) + "\n" + interval(11, 100, errors=1)
    again = first + "\n" + interval(12, 100, errors=4)
    w = started(tmp_path, "producer", [poll_answer([first, ""]), poll_answer([again, ""])])
    poll_once(w)
    poll_once(w)
    assert w.live_stats().errors == 7


def test_rates_drop_to_zero_when_the_runners_finish(tmp_path) -> None:
    w = started(tmp_path, "producer", [poll_answer([interval(11, 100), interval(11, 100)], finished=(1, 1))])
    assert not poll_once(w)
    assert w.live_stats().produced_per_s == 0.0


def test_a_partly_written_record_is_skipped(tmp_path) -> None:
    w = started(tmp_path, "producer", [poll_answer([interval(11, 100) + '\n{"type": "inter', ""])])
    poll_once(w)
    assert w.live_stats().produced_per_s == 100.0


def test_poll_asks_for_records_of_each_instance_by_name(tmp_path) -> None:
    w = started(tmp_path, "producer", [poll_answer(["", ""])])
    poll_once(w)
    extravars = w.transport.provisioner.calls[-1][1]  # type: ignore[attr-defined]
    assert extravars["load_names"] == {"a1": ["w-0", "w-1"]} and int(extravars["load_tail_lines"]) >= 4


def test_a_poll_under_way_does_not_hold_up_the_run(tmp_path) -> None:
    w = started(tmp_path, "producer", [poll_answer(["", ""], finished=(1, 1))])
    assert w.poll()
    w.transport._polling.running = True  # type: ignore[union-attr]
    assert w.poll()
    assert len(w.transport.provisioner.calls) == 3  # type: ignore[attr-defined]


def test_a_failed_runner_fails_the_run_naming_it(tmp_path) -> None:
    failed = {"a1": {"load_tails": ["", ""], "load_states": [[1, 0], [1, 2]]}}
    w = started(tmp_path, "producer", [failed])
    with pytest.raises(EngineError, match="instance 1 on agent a1: runner exited with status 2"):
        poll_once(w)


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
    w = started(tmp_path, "producer", [])
    start_vars = next(extra for _, extra, _ in w.transport.provisioner.calls if extra["load_action"] == "start")  # type: ignore[attr-defined]
    assert start_vars["load_heartbeat_stale"] == HEARTBEAT_STALE_S
