"""Helpers for plan tests: a small valid plan with known line numbers, and a way to feed a
plan file to ``orchestrate validate`` and collect its error lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.cli import main



@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str | bytes, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    return write


@pytest.fixture
def reject(write_plan: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> Callable[..., list[str]]:
    """Validate ``text`` through the CLI; assert exit 2 without a traceback; return the issue lines
    with the file name replaced by ``PLAN`` and its directory by ``DIR``."""

    def run(text: str | bytes, *extra: str) -> list[str]:
        path = write_plan(text)
        code = main(["validate", str(path), *extra])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err
        return [line.replace(str(path), "PLAN", 1).replace(str(path.parent), "DIR") for line in err.splitlines()]

    return run
