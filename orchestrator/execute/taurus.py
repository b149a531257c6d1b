"""A JMeter workload run by Taurus (bzt) as a subprocess, fully offline.

bzt gets its own HOME (it writes ~/.bzt-rc there) and ``TAURUS_DISABLE_DOWNLOADS=1``; its artifacts,
including ``kpi.jtl``, go to ``RUN_DIR/raw/jmeter/<workload>/``.

JMeter, bzt and Groovy take tens of seconds to start, so a generated workload is launched in
``prepare``: its JMX timer writes a ready file once a client is connected and waits for ``start``
to write the run's common start time into a start file. A script workload (the user's JMX) is
launched in ``start``. Exit codes: 0 done, 3 Taurus
pass/fail criteria failed (the verdict is ours to make from the JTL, so the run still counts as
done), 1 and anything else an error, except a consumer that received nothing (bzt's "Empty
results"), which is a result. A JMX naming a class no jar provides is reported as a missing
plugin, whether found before the run (orchestrator.jmeter.script) or in JMeter's log.

A workload with ``agents`` runs in JMeter's distributed mode (orchestrator.render.distributed):
prepare starts a jmeter-server on each agent (orchestrator.execute.jmeter_servers) before bzt, the ready and
start files live in each server's directory on its agent, and stop fetches the servers' logs to
``RUN_DIR/raw/jmeter/<workload>/<agent>.log``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import psutil

from orchestrator.errors import EngineError, ToolMissingError
from orchestrator.cluster import Cluster
from orchestrator.execute.base import Component, LiveStats
from orchestrator.render.distributed import distribution, plugin_jars
from orchestrator.artifacts.jmeter import ensure_jmeter
from orchestrator.execute.jmeter_servers import JmeterServers
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.jmeter.plugins import missing_class_hint
from orchestrator.plan.models import ConsumerWorkload, Plan, ScriptWorkload, Workload
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.render.workload import JmeterTest, render_jmeter_workload
from orchestrator.rundir import RunDir

STOP_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 300.0
DONE_CODES = (0, 3)
LEAD_MARGIN_S = 5.0
SERVER_READY, SERVER_START = Path("orchestrate-ready"), Path("orchestrate-start")
_CANNOT_RESOLVE = re.compile(r"CannotResolveClassException: ([\w.$]+)")
# a consumer's poll, or a generated producer's batch: "N messages", "N messages; F failed"
_MESSAGES = re.compile(r"^(\d+) messages(?:; (\d+) failed)?$")


def bzt_binary() -> str:
    """``ORCHESTRATE_BZT``, else the bzt beside this Python, else bzt on PATH."""
    explicit = os.environ.get("ORCHESTRATE_BZT")
    if explicit:
        return explicit
    beside = Path(sys.executable).with_name("bzt")
    if beside.exists():
        return str(beside)
    found = shutil.which("bzt")
    if found is None:
        raise ToolMissingError("bzt (Taurus) not found: pip install bzt==1.17.2, or set ORCHESTRATE_BZT to its path")
    return found


class TaurusWorkload(Component):
    def __init__(self, plan: Plan, workload: Workload, run: RunDir, plan_path: Path = Path("plan.yaml"),
                 hosts: HostPlaybooks | None = None):
        self.name = workload.name
        self.plan, self.workload, self.run, self.plan_path = plan, workload, run, plan_path
        self.hosts = hosts  # runs the jmeter-server playbooks of a distributed workload
        # absolute: bzt runs in work_dir, and HOME must not depend on the caller's directory
        self.work_dir = run.jmeter_rendered(workload.name).resolve()
        self.artifacts = run.jmeter_artifacts(workload.name).resolve()
        self.test: JmeterTest | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._servers: JmeterServers | None = None
        self._tail = _JtlTail(self.artifacts / "kpi.jtl", consumer=isinstance(workload, ConsumerWorkload))

    def prepare(self, cluster: Cluster) -> None:
        home = ensure_jmeter()
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.test = render_jmeter_workload(self.plan, self.workload, self.plan_path, cluster.bootstrap_servers,
                                           self.work_dir, self.artifacts)
        dist = distribution(self.plan, self.workload)
        if dist is not None:
            if self.hosts is None:
                raise EngineError(f"workload {self.name}: its agents need the plan's inventory")
            self._servers = JmeterServers(self.hosts, dist, self.name, self.run.root.name)
            self._servers.start(home, plugin_jars(self.test.config.jmeter.parent.parent, home),
                                sorted(set(cluster.secret_env.values())), self.plan.total_duration + READY_TIMEOUT_S)
        if self._early:
            self._launch_early()

    def _launch_early(self) -> None:
        """Launches bzt and waits until the test's Kafka clients are up (here, or on every server)."""
        for marker in (self._ready_file, self._start_file):
            marker.unlink(missing_ok=True)
        # on jmeter-servers the markers are relative: each server's own directory on its agent
        ready, start = (SERVER_READY, SERVER_START) if self._servers is not None else (self._ready_file, self._start_file)
        self.test = self.test.with_properties({"orchestrate.ready_file": str(ready), "orchestrate.start_file": str(start)})
        self._launch()
        if self._servers is None:
            self._wait_ready()
        else:
            # start() hands the servers the start time: about one such round trip, plus margin
            self.lead_s = 2 * self._servers.wait_ready(READY_TIMEOUT_S, self._controller_running) + LEAD_MARGIN_S

    def start(self) -> None:
        if self.test is None:
            raise EngineError(f"workload {self.name}: start() before prepare()")
        if not self._early:
            self._launch()
            return
        start_at = self.start_at if self.start_at is not None else time.time()
        if self._servers is not None:
            self._servers.go(start_at)
            return
        pending = self._start_file.with_suffix(".tmp")
        pending.write_text(f"{start_at:.3f}\n")
        pending.rename(self._start_file)  # atomic: the timer never reads half a number

    @property
    def _early(self) -> bool:
        return not isinstance(self.workload, ScriptWorkload)

    @property
    def _ready_file(self) -> Path:
        return self.work_dir / "ready"

    @property
    def _start_file(self) -> Path:
        return self.work_dir / "start_at"

    def _launch(self) -> None:
        home = self.work_dir / "home"
        home.mkdir(exist_ok=True)
        env = {**os.environ, "HOME": str(home), "TAURUS_DISABLE_DOWNLOADS": "1"}
        with (self.artifacts / "bzt.out").open("ab") as out:
            self._proc = subprocess.Popen([bzt_binary(), str(self.test.taurus_file)], stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.work_dir, env=env, start_new_session=True,
                                          preexec_fn=on_parent_death())

    def _controller_running(self) -> bool:
        code = self._proc.poll()
        if code is not None:
            self._raise_if_failed(code)
        return code is None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._ready_file.exists():
            code = self._proc.poll()
            if code is not None:
                self._raise_if_failed(code)
                raise EngineError(f"workload {self.name}: JMeter ended before a Kafka client was ready: {self._last_error()}")
            if time.monotonic() > deadline:
                self.stop()
                raise EngineError(f"workload {self.name}: JMeter had no Kafka client ready within {READY_TIMEOUT_S:.0f}s "
                                  f"(see {self.artifacts / 'jmeter.log'})")
            time.sleep(0.2)

    def poll(self) -> bool:
        if self._proc is None:
            return False
        code = self._proc.poll()
        if code is None:
            return True
        self._raise_if_failed(code)
        return False

    def stop(self) -> None:
        """Stops bzt, then the jmeter-servers (fetching their logs)."""
        try:
            self._stop_bzt()
        finally:
            if self._servers is not None:
                self._servers.stop(self.artifacts)

    def _stop_bzt(self) -> None:
        """SIGTERM to bzt (it stops JMeter and writes its results), then SIGKILL to what is left."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        for member in family:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                continue
        proc.wait(timeout=STOP_TIMEOUT_S)

    def live_stats(self) -> LiveStats:
        return self._tail.stats(done=self._proc is not None and self._proc.poll() is not None)

    def _raise_if_failed(self, code: int) -> None:
        if code in DONE_CODES or self._consumed_nothing():
            return
        jmeter_log = self.artifacts / "jmeter.log"
        log = jmeter_log.read_text(errors="replace") if jmeter_log.exists() else ""
        missing = _CANNOT_RESOLVE.search(log)
        if missing:
            raise ToolMissingError(f"{jmeter_log}: {missing_class_hint(missing.group(1), self.name)}")
        raise EngineError(f"workload {self.name}: bzt exited with status {code}: {self._last_error()}")

    def _consumed_nothing(self) -> bool:
        """bzt fails a test without samples; a consumer that got no message is a result, not an error."""
        log = self.artifacts / "bzt.log"
        return (isinstance(self.workload, ConsumerWorkload) and log.exists()
                and "Empty results" in log.read_text(errors="replace"))

    def _last_error(self) -> str:
        for path in (self.artifacts / "bzt.log", self.artifacts / "jmeter.log", self.artifacts / "bzt.out"):
            if path.exists():
                lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if " ERROR " in ln or "ERROR:" in ln]
                if lines:
                    return f"{lines[-1]} (see {path})"
        return f"no error logged (see {self.artifacts})"


class _JtlTail:
    """Rates from the lines kpi.jtl gained over the last few calls. JMeter writes its results in
    bursts, so the rate is averaged over ``WINDOW_S``; it is 0 once the workload is done or the file
    gained nothing for ``IDLE_S``. A line saying "N messages" (a consumer's poll, a generated
    producer's batch of sends) counts N, and its "F failed" as F errors; any other line counts one."""

    WINDOW_S = 5.0
    IDLE_S = 3.0

    def __init__(self, path: Path, consumer: bool, clock: Callable[[], float] = time.monotonic):
        self.path, self.consumer, self.clock = path, consumer, clock
        self.offset, self.errors = 0, 0
        self.began = self.last_row = clock()
        self.window: deque[tuple[float, int]] = deque()  # (when read, successes read)

    def stats(self, done: bool = False) -> LiveStats:
        now = self.clock()
        ok = self._read()
        if ok:
            self.last_row = now
        self.window.append((now, ok))
        while self.window[0][0] < now - self.WINDOW_S:
            self.window.popleft()
        span = min(self.WINDOW_S, now - self.began)
        idle = done or now - self.last_row > self.IDLE_S
        rate = 0.0 if idle else sum(n for _, n in self.window) / max(span, 1e-3)
        return LiveStats(consumed_per_s=rate, errors=self.errors) if self.consumer else LiveStats(produced_per_s=rate, errors=self.errors)

    def _read(self) -> int:
        """Successes (messages) in the complete lines added since the last read."""
        if not self.path.exists():
            return 0
        with self.path.open("rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        ok = 0
        for line in complete.decode(errors="replace").splitlines():
            fields = line.split(",")
            if len(fields) < 7 or fields[0] == "timeStamp":
                continue
            counted = _MESSAGES.match(fields[4])
            if counted:
                failed = int(counted.group(2) or 0)
                ok += int(counted.group(1)) - failed
                self.errors += failed
            elif fields[6] == "true":
                ok += 1
            else:
                self.errors += 1
        return ok
