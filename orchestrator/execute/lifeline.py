"""Nothing outlives apply: every process apply starts on this machine ends when apply ends, however it ends.

- **Tag.** apply puts ``ORCHESTRATE_RUN=<token>`` in its environment for the run. Every process it
  starts inherits it, and so do theirs (bzt's JMeter, ansible-playbook's workers and the jobs it
  runs on loopback hosts), even those that leave its process group or session.
- **Watchdog.** ``python -m orchestrator.execute.lifeline`` runs in a session of its own, reading a
  pipe whose write end only apply holds. apply says ``done`` on it when it ends in order; when it
  dies instead (``kill -9``, a crash, the OOM killer) the pipe just closes, and the watchdog stops
  every process with the tag: SIGTERM, SIGKILL after ``GRACE_S``.
- **Parent-death signal.** Processes started from apply's main thread also get SIGTERM from the
  kernel when apply dies (``PR_SET_PDEATHSIG``), in case the watchdog died with it.
- **Registry.** ``${XDG_CACHE_HOME:-~/.cache}/orchestrate/applies/<token>.json`` names each running
  apply and its run directory. apply removes its entry when it ends in order, the watchdog once
  it has cleaned up; an entry whose apply is dead is a stale run, and ``reap_stale`` (the next
  apply) stops what still runs with its tag and says so.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from orchestrator.artifacts.cache import cache_dir
from orchestrator.errors import RunError

ENV = "ORCHESTRATE_RUN"
GRACE_S = 5.0  # SIGTERM lets runners flush and the broker shut down; SIGKILL after this
ROUNDS = 3  # a process may start a child while it is being stopped: look again
DONE = b"done\n"
PR_SET_PDEATHSIG = 1
WATCHDOG_EXIT_S = 10.0
SAME_PROCESS_S = 0.1  # creation times this close: the same process, not a reused pid


def registry_dir() -> Path:
    return cache_dir("applies")


# --------------------------------------------------------------------------- parent-death signal


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # bound before any fork: the child only calls it


def on_parent_death() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send the child SIGTERM when apply dies. The kernel
    sends it when the *thread* that forked ends, so children started from other threads (a
    fault's restart) get none and rely on the watchdog."""
    if _PRCTL is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    prctl = _PRCTL

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # apply died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


# --------------------------------------------------------------------------- tagged processes


def tagged(token: str) -> list[psutil.Process]:
    """The processes whose environment carries ``token``; never this process or its ancestors."""
    me = psutil.Process()
    spared = {me.pid, *(p.pid for p in me.parents())}
    found = []
    for proc in psutil.process_iter():
        if proc.pid in spared:
            continue
        try:
            if proc.environ().get(ENV) == token:
                found.append(proc)
        except (psutil.Error, OSError):  # gone, a zombie, or another user's
            continue
    return found


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.name()} {proc.pid}"
    except psutil.Error:
        return str(proc.pid)


def stop_tagged(token: str, grace: float = GRACE_S) -> list[str]:
    """Stops every process with ``token`` (SIGTERM, then SIGKILL after ``grace``); names them."""
    stopped: list[str] = []
    for _ in range(ROUNDS):
        procs = tagged(token)
        if not procs:
            break
        stopped.extend(_describe(p) for p in procs)
        for proc in procs:
            try:
                proc.terminate()
            except psutil.Error:
                continue
        _, alive = psutil.wait_procs(procs, timeout=grace)
        for proc in alive:
            try:
                proc.kill()
            except psutil.Error:
                continue
        psutil.wait_procs(alive, timeout=grace)
    survivors = tagged(token)
    if survivors:
        raise RunError(f"cannot stop {', '.join(_describe(p) for p in survivors)} (tag {ENV}={token})")
    return stopped


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Entry:
    token: str
    run_dir: str
    pid: int  # apply's
    started: float  # apply's process creation time: a pid alone may have been reused

    @classmethod
    def read(cls, path: Path) -> Entry | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["token"]), str(data["run_dir"]), int(data["pid"]), float(data["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.__dict__), encoding="utf-8")
        os.replace(partial, path)

    def apply_alive(self) -> bool:
        try:
            return abs(psutil.Process(self.pid).create_time() - self.started) < SAME_PROCESS_S
        except psutil.Error:
            return False


def reap_stale(directory: Path | None = None) -> list[str]:
    """Stops what dead applies left running; one line per stale run that still had processes.
    Entries of live applies (another run going on) are left alone."""
    lines = []
    for path in sorted((directory or registry_dir()).glob("*.json")):
        entry = Entry.read(path)
        if entry is not None and entry.apply_alive():
            continue
        stopped = stop_tagged(entry.token) if entry is not None else []
        path.unlink(missing_ok=True)
        if entry is not None and stopped:
            lines.append(f"stale run {entry.run_dir}: its apply (pid {entry.pid}) died and left {len(stopped)} "
                         f"process(es) running; stopped {', '.join(stopped)}")
    return lines


# --------------------------------------------------------------------------- apply's side


class Lifeline:
    """apply's end of it: the tag in the environment, the registry entry and the watchdog."""

    def __init__(self, run_dir: Path, directory: Path | None = None):
        me = psutil.Process()
        self.entry = Entry(uuid.uuid4().hex, str(run_dir), me.pid, me.create_time())
        self.path = (directory or registry_dir()) / f"{self.entry.token}.json"
        self._pipe: int | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._previous: str | None = None

    def __enter__(self) -> Lifeline:
        try:
            self.entry.write(self.path)
        except OSError as err:
            raise RunError(f"{self.path}: cannot register this run: {err.strerror or err}") from None
        read, self._pipe = os.pipe()  # both ends non-inheritable: no other child holds the write end
        try:
            env = {k: v for k, v in os.environ.items() if k != ENV}  # the watchdog must not find itself
            self._watchdog = subprocess.Popen([sys.executable, "-m", "orchestrator.execute.lifeline", str(self.path)],
                                              stdin=read, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              start_new_session=True, env=env)
        except OSError as err:
            os.close(self._pipe)
            self.path.unlink(missing_ok=True)
            raise RunError(f"cannot start apply's watchdog: {err.strerror or err}") from None
        finally:
            os.close(read)
        self._previous = os.environ.get(ENV)
        os.environ[ENV] = self.entry.token
        return self

    def __exit__(self, *exc: object) -> None:
        """An orderly end: everything is stopped or deliberately kept (``--keep-broker``)."""
        if self._previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = self._previous
        assert self._pipe is not None
        try:
            os.write(self._pipe, DONE)
        except OSError:
            pass  # the watchdog is gone; nothing to tell it
        os.close(self._pipe)
        if self._watchdog is not None:
            try:
                self._watchdog.wait(WATCHDOG_EXIT_S)
            except subprocess.TimeoutExpired:
                self._watchdog.kill()
                self._watchdog.wait()
        self.path.unlink(missing_ok=True)


@contextmanager
def untagged() -> Iterator[None]:
    """Processes started inside outlive a dead apply (a provisioned cluster kept after the run)."""
    token = os.environ.pop(ENV, None)
    try:
        yield
    finally:
        if token is not None:
            os.environ[ENV] = token


def _watch(registry: Path) -> int:
    """The watchdog: waits for apply to end; when it died, stops its processes."""
    said = sys.stdin.buffer.read()  # returns when every holder of the write end is gone
    if said.startswith(DONE):
        return 0
    entry = Entry.read(registry)
    if entry is None:
        return 0
    try:
        stop_tagged(entry.token)
    except RunError:
        return 1  # the entry stays: the next apply tries again and says what it could not stop
    registry.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for apply must not end its watchdog
    sys.exit(_watch(Path(sys.argv[1])))
