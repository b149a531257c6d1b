"""The monitor role's host sampler (/proc, for remote hosts) writes what the collector reads for
this machine's psutil samples."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import jinja2
import pytest

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.sampled import read_host
from orchestrator.collect.timeline import TimelineBuilder
from tests.provision.adhoc import PLAYBOOKS, run_play

SAMPLER = PLAYBOOKS / "roles" / "monitor" / "templates" / "host-sampler.sh.j2"


def test_the_sampler_output_becomes_cpu_memory_and_network_series(tmp_path: Path) -> None:
    script = tmp_path / "host-sampler.sh"
    script.write_text(jinja2.Template(SAMPLER.read_text()).render())
    out = tmp_path / "lab1.jsonl"
    with out.open("w") as stream:
        subprocess.run(["sh", str(script), "1", "3"], stdout=stream, check=True, timeout=30)
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    read_host(out, builder, diag, interval=1)
    series = {k.metric: [v for v in values if v is not None] for k, values in builder.build().series.items()}
    assert diag.lines() == []
    assert sorted(series) == ["host.cpu", "host.memory", "host.net_rx_mb", "host.net_tx_mb"]
    assert all(0 <= v <= 100 for v in series["host.cpu"] + series["host.memory"]) and series["host.cpu"]
    assert all(v >= 0 for v in series["host.net_rx_mb"]) and series["host.net_rx_mb"]


@pytest.mark.integration
@pytest.mark.parametrize("iostat", [True, False], ids=["broker host", "agent-only host"])
def test_the_monitor_role_starts_stops_and_fetches_the_host_sampler(tmp_path: Path, iostat: bool) -> None:
    home, fetched, fetched_iostat = tmp_path / "monitor", tmp_path / "raw-host", tmp_path / "raw-iostat"
    fetched_iostat.mkdir()
    settings = {"monitor_home": str(home), "monitor_run_id": "r1", "monitor_interval": 1, "monitor_max_samples": 30,
                "monitor_host": True, "monitor_host_interval": 1, "monitor_host_max_samples": 30,
                "monitor_fetch_dir": str(fetched_iostat), "monitor_host_fetch_dir": str(fetched),
                "monitor_become": False, "monitor_iostat": iostat}

    def role(tasks: str) -> None:
        result = run_play(tmp_path, {"vars": settings, "tasks": [
            {"ansible.builtin.include_role": {"name": "monitor", "tasks_from": tasks}}]})
        assert result.rc == 0, result.stdout.read()

    role("start")
    time.sleep(2.5)
    role("stop")
    lines = (fetched / "localhost.jsonl").read_text().splitlines()
    assert len(lines) >= 2 and all(json.loads(line)["memory"] > 0 for line in lines)
    assert not list(home.glob("*.pid"))  # both samplers stopped
    assert (fetched_iostat / "localhost.json").exists() == iostat
