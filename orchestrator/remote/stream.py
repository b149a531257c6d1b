"""A long-running command on a host whose output lines arrive while it writes them.

The command line comes from ``HostPlaybooks.command_on`` (one ssh session, or a child process for a
local host). A reader thread queues stdout line by line, so the caller takes what arrived without
ever waiting; stderr's last lines are kept to say why a session ended.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections import deque
from typing import Callable

STDERR_KEPT = 5


class HostStream:
    def __init__(self, argv: list[str], preexec_fn: Callable[[], None] | None = None):
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, errors="replace", preexec_fn=preexec_fn)
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stderr: deque[str] = deque(maxlen=STDERR_KEPT)
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.strip():
                self._stderr.append(line.strip())

    def lines(self) -> list[str]:
        """Every line that arrived since the last call."""
        out = []
        while True:
            try:
                out.append(self._lines.get_nowait())
            except queue.Empty:
                return out

    @property
    def ended(self) -> bool:
        """The command exited and every line it wrote is queued."""
        return self.process.poll() is not None and not self._readers[0].is_alive()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def why(self) -> str:
        """The last line the command wrote to stderr, or its exit status."""
        return self._stderr[-1] if self._stderr else f"exit status {self.process.returncode}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
