"""The plan commands of the CLI: validate and schema, with their output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.plan.schema import plan_json_schema

ROOT = Path(__file__).parents[1]
QUICKSTART = ROOT / "plans" / "quickstart.yaml"


def test_validate_a_valid_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(QUICKSTART)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{QUICKSTART}: valid plan 'quickstart' (2 workloads, 2 phases, 3 SLOs)\n"
    assert err == ""


def test_validate_with_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(QUICKSTART), "--set", "phases.steady.duration=1m", "--set", "slos.0.threshold=1s"]) == 0


def test_validate_an_invalid_plan_prints_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "bad.yaml"
    lines = QUICKSTART.read_text().replace("rate: 2k/s", "rate: fast").replace("start: earliest", "start: first")
    plan.write_text(lines)
    rate_line = lines.splitlines().index("    rate: fast") + 1
    start_line = lines.splitlines().index("    start: first") + 1
    assert main(["validate", str(plan)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{plan}:{rate_line}:11: workloads.0.rate: expected a rate such as '500/s', '5k/s' or 'max', got 'fast'",
        f"{plan}:{start_line}:12: workloads.1.start: expected one of earliest, latest, got 'first'",
    ]


def test_validate_a_missing_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'missing.yaml'}:1:1: no such file\n"


def test_validate_needs_a_plan_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2
    assert "the following arguments are required: plan" in capsys.readouterr().err


def test_schema_prints_the_plan_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == plan_json_schema()


def test_console_script_reports_garbage_without_a_traceback(tmp_path: Path) -> None:
    plan = tmp_path / "garbage.yaml"
    plan.write_bytes(bytes(range(256)))
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", "validate", str(plan)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"{plan}:2:118: not UTF-8 text (byte 0x80)\n"


@pytest.mark.parametrize("command", ["", "validate", "plan", "apply", "render", "provision", "destroy", "report",
                                     "compare", "import-jmx", "schema"])
def test_every_help_lists_examples_and_the_exit_codes(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert f"  orchestrate {command}".rstrip() in text and "examples:" in text
    assert "exit codes:" in text and "  130  interrupted" in text and "  3    the run could not" in text


def test_no_command_is_a_usage_error_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err == "orchestrate: a command is required (see orchestrate --help)\n"
