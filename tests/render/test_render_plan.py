import xml.etree.ElementTree as ET

import yaml

from orchestrator.cli import main
from orchestrator.render import RUNTIME_BOOTSTRAP

PLAN = """
metadata: {name: mixed}
topics: [{name: t1}]
workloads:
  - {name: native-p, kind: producer, topic: t1, rate: 100/s, instances: 2}
  - {name: jm-p, kind: producer, engine: jmeter, topic: t1, rate: 100/s}
  - {name: jm-c, kind: consumer, engine: jmeter, topic: t1}
phases:
  - {name: s, kind: steady, duration: 10s}
"""


def test_render_writes_runner_specs_and_jmeter_files_like_a_run_dir(tmp_path, capsys):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert main(["render", str(plan), "--out", str(tmp_path / "out")]) == 0
    listed = capsys.readouterr().out.split()
    rendered = tmp_path / "out" / "rendered"
    assert sorted(listed) == sorted(str(p) for p in [
        rendered / "native" / "native-p" / "0.json", rendered / "native" / "native-p" / "1.json",
        rendered / "jmeter" / "jm-p" / "jm-p.jmx", rendered / "jmeter" / "jm-p" / "taurus.yml",
        rendered / "jmeter" / "jm-c" / "jm-c.jmx", rendered / "jmeter" / "jm-c" / "taurus.yml"])
    ET.parse(rendered / "jmeter" / "jm-c" / "jm-c.jmx")
    taurus = yaml.safe_load((rendered / "jmeter" / "jm-p" / "taurus.yml").read_text())
    assert taurus["scenarios"]["jm-p"]["properties"]["kafka.bootstrap.servers"] == RUNTIME_BOOTSTRAP
    assert taurus["settings"]["artifacts-dir"] == str((tmp_path / "out" / "raw" / "jmeter" / "jm-p").resolve())
