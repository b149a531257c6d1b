"""Nothing outlives apply: the tag, the watchdog, the parent-death signal and stale-run reaping,
with real processes (``sleep``) standing in for brokers and runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.execute.lifeline import ENV, Entry, Lifeline, on_parent_death, reap_stale, tagged

ROOT = Path(__file__).resolve().parents[2]
BOUND_S = 60  # a loaded machine is slow; nothing here measures time


def _sleeper(token: str | None = None) -> subprocess.Popen:
    env = {**os.environ, **({ENV: token} if token else {})}
    return subprocess.Popen(["sleep", "300"], env=env, start_new_session=True)


def _gone(pids: list[int]) -> bool:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=BOUND_S)
    return not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def _fake_apply(registry: Path, pids: Path) -> subprocess.Popen:
    """A process that holds a Lifeline and starts what apply starts: a child in a session of its
    own, and one that leaves a grandchild behind (as bzt leaves JMeter), then waits to be killed."""
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        from pathlib import Path
        from orchestrator.execute.lifeline import Lifeline, on_parent_death
        with Lifeline(Path("run"), directory=Path({str(registry)!r})):
            child = subprocess.Popen(["sleep", "300"], start_new_session=True, preexec_fn=on_parent_death())
            parent = subprocess.Popen(["sh", "-c", "sleep 300 & echo $! ; wait"], stdout=subprocess.PIPE,
                                      start_new_session=True, text=True)
            grandchild = int(parent.stdout.readline())
            Path({str(pids)!r}).write_text(f"{{child.pid}} {{parent.pid}} {{grandchild}}")
            time.sleep(300)
    """)
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_for(condition) -> bool:
    deadline = time.monotonic() + BOUND_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_watchdog_stops_every_process_of_an_apply_killed_with_sigkill(tmp_path) -> None:
    registry, pids = tmp_path / "applies", tmp_path / "pids"
    apply = _fake_apply(registry, pids)
    try:
        assert _wait_for(lambda: pids.exists() and pids.read_text())
        started = [int(p) for p in pids.read_text().split()]
        assert len(list(registry.glob("*.json"))) == 1
        apply.kill()
        apply.wait()
        assert _gone(started)
    finally:
        if apply.poll() is None:
            apply.kill()
    assert _wait_for(lambda: not list(registry.glob("*.json")))  # removed once it cleaned up


def test_an_orderly_end_leaves_what_apply_kept_running_and_its_environment_as_it_was(tmp_path) -> None:
    before = os.environ.get(ENV)
    with Lifeline(tmp_path / "run", directory=tmp_path) as life:
        assert os.environ[ENV] == life.entry.token
        assert Entry.read(life.path) == life.entry and life.entry.apply_alive()
        kept = _sleeper()  # inherits the tag, as a broker kept with --keep-broker does
        watchdog = life._watchdog
    try:
        assert watchdog is not None and watchdog.returncode == 0  # told "done", it stopped nothing
        assert kept.poll() is None
        assert os.environ.get(ENV) == before
        assert not list(tmp_path.glob("*.json"))
    finally:
        kept.kill()
        kept.wait()


def test_the_next_apply_stops_a_dead_applys_leftovers_and_names_them(tmp_path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    Entry("t-dead", "runs/quickstart-1", dead.pid, 1.0).write(tmp_path / "t-dead.json")
    me = psutil.Process()
    Entry("t-live", "runs/other", me.pid, me.create_time()).write(tmp_path / "t-live.json")
    leftover, other = _sleeper("t-dead"), _sleeper("t-live")
    try:
        assert [p.pid for p in tagged("t-dead")] == [leftover.pid]
        (line,) = reap_stale(tmp_path)
        assert line.startswith(f"stale run runs/quickstart-1: its apply (pid {dead.pid}) died and left 1 process(es)")
        assert f"sleep {leftover.pid}" in line
        assert leftover.wait(timeout=BOUND_S) is not None
        assert other.poll() is None  # a run going on is not stale
        assert sorted(p.name for p in tmp_path.glob("*.json")) == ["t-live.json"]
        assert reap_stale(tmp_path) == []
    finally:
        for proc in (leftover, other):
            proc.kill()
            proc.wait()


def test_an_unreadable_registry_entry_is_dropped(tmp_path) -> None:
    (tmp_path / "broken.json").write_text(json.dumps({"token": "x"}))
    assert reap_stale(tmp_path) == []
    assert not (tmp_path / "broken.json").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_started_from_the_main_thread_ends_when_its_parent_dies(tmp_path) -> None:
    script = ("import subprocess; from orchestrator.execute.lifeline import on_parent_death; "
              "p = subprocess.Popen(['sleep', '300'], preexec_fn=on_parent_death(), start_new_session=True); "
              "print(p.pid, flush=True)")
    parent = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=BOUND_S, check=True)
    assert _gone([int(parent.stdout)])


def test_no_parent_death_signal_from_other_threads() -> None:
    # the kernel would signal the child when that thread ends (a fault's broker restart)
    found = []
    thread = threading.Thread(target=lambda: found.append(on_parent_death()))
    thread.start()
    thread.join()
    assert found == [None]
