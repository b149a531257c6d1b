"""disk_full: a file fills the file system of the broker's (first) log dir, to ``fill_to`` of its
size or to the last free byte, and is removed when the fault ends. A broker whose log dir failed
under the full disk either stopped itself (Kafka halts when its metadata log dir goes offline) or
keeps the dir offline until it restarts (DescribeLogDirs says so): either way it is started again
once the space is back."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import psutil

from orchestrator.cluster import BrokerHandle
from orchestrator.errors import BrokerError, RunError
from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.execute.faults.brokers import BrokerProcess, ensure_exited
from orchestrator.execute.log_dirs import describe_log_dirs, refusal

CHUNK = 64 * 1024**2
SMALLEST = 4096
DESCRIBE_TIMEOUT_S = 10.0


def fill_name(fault: str) -> str:
    """The fill file's name in the log dir (Kafka loads only directories there, so it ignores it)."""
    return f".orchestrate-fill-{fault}"


class DiskFull(FaultAction):
    handle: BrokerHandle
    process: BrokerProcess
    path: Path

    def prepare(self) -> None:
        self.handle = handle = self.brokers.find(self.spec.broker)
        if not handle.log_dirs:
            raise RunError(f"fault {self.spec.name}: the log dirs of broker {handle.host} ({handle.address}) "
                           "are not on this machine")
        self.process = self.brokers.process(handle)
        self.path = handle.log_dirs[0] / fill_name(self.spec.name)

    def inject(self, due: float) -> Effect:
        st = os.statvfs(self.path.parent)
        total, free = st.f_blocks * st.f_frsize, st.f_bfree * st.f_frsize  # root may use the reserved blocks too
        wanted = free if self.spec.fill_to is None else max(0, int(self.spec.fill_to * total) - (total - free))
        written = _allocate(self.path, wanted)
        after = os.statvfs(self.path.parent)
        used = 1 - after.f_bavail / after.f_blocks if after.f_blocks else 1.0
        return Effect(time.time(), f"{written / 1024**2:.0f} MiB in {self.path}, file system {used:.0%} used")

    def recover(self, due: float) -> Effect:
        self.path.unlink(missing_ok=True)
        if _alive(self.process):
            if not self._log_dir_failed():
                return Effect(time.time(), "file removed")
            self.process.signal(signal.SIGTERM)
            ensure_exited(self.process)
        self.process.restart()
        return Effect(time.time(), "file removed, broker restarted")

    def _log_dir_failed(self) -> bool:
        """True when the broker reports a log dir offline, or cannot say (then a restart is the remedy)."""
        if refusal(self.cluster) is not None:
            return False  # nothing to ask it with: trust that it is fine
        try:
            return any(d.error for d in describe_log_dirs(self.handle.address, {}, DESCRIBE_TIMEOUT_S))
        except RunError:
            return True


def _allocate(path: Path, wanted: int) -> int:
    """Allocates up to ``wanted`` bytes of real blocks (not a sparse file) and returns how many; a
    file system that runs out first is filled to its last block."""
    done, chunk = 0, CHUNK
    with path.open("wb") as out:
        while done < wanted and chunk >= SMALLEST:
            size = min(chunk, wanted - done)
            try:
                os.posix_fallocate(out.fileno(), done, size)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise RunError(f"cannot fill {path}: {err.strerror}") from None
                chunk //= 16
                continue
            done += size
    return done


def _alive(process: BrokerProcess) -> bool:
    try:
        pid = process.pid
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (BrokerError, psutil.NoSuchProcess):
        return False
