"""An ``existing`` target with an inventory: apply installs nothing, but runs iostat on the
inventory's broker hosts through the monitor role and puts their disks in the report."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from tests.integration.test_apply import LOST_NONE, existing, write_plan

pytestmark = pytest.mark.integration


def test_iostat_runs_on_inventory_hosts_of_an_existing_cluster(tmp_path: Path, kafka_broker, topic_name) -> None:
    plan_path = write_plan(tmp_path / "plan.yaml", existing(kafka_broker), topic_name, [LOST_NONE], steady="4s")
    plan = yaml.safe_load(plan_path.read_text())
    plan["inventory"] = {"hosts": [{"name": "lab1", "address": "127.0.0.1", "roles": ["broker"],
                                    "connection": "local", "data_dir": str(tmp_path / "lab1")}]}
    plan["monitors"]["iostat"] = {"interval": "1s"}
    plan_path.write_text(yaml.safe_dump(plan))
    run = tmp_path / "run"
    assert main(["apply", str(plan_path), "--run-dir", str(run)]) == 0
    samples = json.loads((run / "raw" / "iostat" / "lab1.json").read_text())
    assert samples["sysstat"]["hosts"][0]["statistics"], "iostat wrote no samples"
    header = (run / "results" / "timeline.csv").read_text().splitlines()[0]
    assert "disk.util[host=lab1" in header
    charts = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", (run / "report" / "index.html").read_text())
    assert any("lab1" in base64.b64decode(chart).decode() for chart in charts), "no chart names host lab1"
    assert not (tmp_path / "lab1" / "kafka").exists(), "an existing target must not get Kafka installed"
