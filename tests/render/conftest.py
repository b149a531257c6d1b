"""Golden-file comparison for rendered artefacts. Regenerate with ORCHESTRATE_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("ORCHESTRATE_UPDATE_GOLDEN") == "1":
            path.write_text(text)
        assert path.exists(), f"{path} missing: run with ORCHESTRATE_UPDATE_GOLDEN=1 and review it"
        assert text == path.read_text(), f"{name} differs from {path}; if intended, regenerate with ORCHESTRATE_UPDATE_GOLDEN=1"

    return check
