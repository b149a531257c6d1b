"""Runs one ad-hoc play on this machine through real ansible-runner, with the project's roles
available, for tests of single role task files and templates."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def run_play(tmp_path: Path, play: dict, path_prefix: Path | None = None):
    """``play`` runs against localhost; ``path_prefix`` goes first on PATH (fake commands)."""
    import ansible_runner

    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, **play}]))
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    # ansible-playbook lives in the venv's bin, which need not be on PATH
    path = [str(p) for p in (path_prefix, Path(sys.executable).parent) if p] + [os.environ.get("PATH", "")]
    return ansible_runner.run(
        private_data_dir=str(private), playbook=str(playbook), quiet=True,
        cancel_callback=lambda: False,  # else ansible-runner installs SIGINT/SIGTERM handlers for good
        envvars={"PATH": ":".join(path), "ANSIBLE_ROLES_PATH": str(PLAYBOOKS / "roles")},
        inventory={"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                   "ansible_python_interpreter": sys.executable}}}})
