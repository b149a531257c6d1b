"""Tars shipped to remote hosts: one transfer each instead of one per file (Ansible's copy module
makes a round trip per file: ~100 Kafka jars, ~300 files of a JMeter home)."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterable
from pathlib import Path


def tar_once(archive: Path, members: Iterable[tuple[Path, str]]) -> Path:
    """``archive`` holding each (path, name in the tar); written only when missing, atomically, so an
    archive named after its content (a version, a digest) is built once and then reused."""
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for path, name in members:
                tar.add(path, arcname=name)
        partial.rename(archive)
    return archive


def source_files(root: Path) -> list[Path]:
    """The Python sources under ``root`` (no bytecode caches), in a stable order."""
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def digest(files: Iterable[Path], root: Path) -> str:
    """A short content hash of ``files`` (names relative to ``root`` included)."""
    h = hashlib.sha256()
    for path in files:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
