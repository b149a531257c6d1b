"""The Vagrant lab: its Vagrantfile parses (``ruby -c``), and the plan that targets it names the same
machines and addresses. Nothing here boots a VM or touches the lab's network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.plan.loader import load_plan

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs ruby")
def test_vagrantfile_syntax_is_clean() -> None:
    checked = subprocess.run(["ruby", "-c", str(ROOT / "Vagrantfile")], capture_output=True, text=True, timeout=60)
    assert (checked.returncode, checked.stdout.strip(), checked.stderr.strip()) == (0, "Syntax OK", "")


def test_lab_plan_targets_the_vagrantfile_machines() -> None:
    text = (ROOT / "Vagrantfile").read_text()
    network = re.search(r'NETWORK = "([\d.]+)"', text).group(1)
    brokers = {f"broker{i}": f"{network}.{10 + i}" for i in (1, 2, 3)}
    assert 'BROKERS = (1..3).map { |i| { name: "broker#{i}", ip: "#{NETWORK}.#{10 + i}"' in text
    assert 'AGENTS = [{ name: "agent1", ip: "#{NETWORK}.21" }]' in text
    plan = load_plan(ROOT / "plans" / "vagrant-lab.yaml")
    hosts = {h.name: (h.address, tuple(h.roles)) for h in plan.inventory.hosts}
    assert hosts == {**{n: (a, ("broker", "controller")) for n, a in brokers.items()}, "agent1": (f"{network}.21", ("agent",))}
