"""Kafka installed from an Apache release tarball (install_source: tarball), the usual choice for
real labs, through the real playbooks. The tarball is built here in the Apache layout
(kafka_2.13-<version>/libs/*.jar) from the Maven-resolved jars and served by a file:// URL, since
this machine cannot reach archive.apache.org."""

from __future__ import annotations

import socket
import tarfile
from pathlib import Path

import psutil
import pytest

from orchestrator.artifacts.kafka import kafka_libs
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import LocalTarget
from orchestrator.provision import destroy, provision
from tests.integration.test_provision_errors import local_broker, write_plan

pytestmark = pytest.mark.integration


def apache_tarball(path: Path, version: str) -> Path:
    top = f"kafka_2.13-{version}"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for jar in sorted(kafka_libs(version).glob("*.jar")):
            tar.add(jar, arcname=f"{top}/libs/{jar.name}")
    return path


def test_provision_from_a_tarball_url_brings_up_a_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    version = LocalTarget().kafka_version
    tarball = apache_tarball(tmp_path / f"kafka_2.13-{version}.tgz", version)
    host = local_broker(tmp_path, "b1")
    plan_path = write_plan(tmp_path, [host], install_source="tarball", tarball_url=tarball.as_uri(), wipe=True)
    plan = load_plan(plan_path)
    try:
        provision(plan, plan_path)
        assert (tmp_path / "b1" / "kafka" / f"kafka-{version}" / "libs" / ".complete").read_text().strip() == version
        with socket.create_connection(("127.0.0.1", host["kafka_port"]), timeout=10):
            pass
    finally:
        destroy(plan, plan_path)
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path / "b1") in " ".join(p.info["cmdline"] or [])]
