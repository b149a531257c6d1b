"""Run runner processes from tests and read what they wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def write_spec(path, spec: dict):
    path.write_text(json.dumps(spec))
    return path


def start_runner(spec_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestrator.runner", str(spec_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_records(output) -> list[dict]:
    return [json.loads(line) for line in Path(output).read_text().splitlines()]


def live_spec(spec_dict: dict, cluster, topic: str, role: str, **overrides) -> dict:
    """A spec against the session broker that starts a second from now."""
    return {**spec_dict, "bootstrap_servers": cluster.bootstrap_servers, "topic": topic, "role": role,
            "start_at": time.time() + 1.0, "group": f"g-{topic}", "drain_s": 5.0,
            "client_config": {"session.timeout.ms": "6000"} if role == "consumer" else {"linger.ms": "5"},
            "output": str(Path(spec_dict["output"]).with_name(f"{role}.jsonl")), **overrides}
