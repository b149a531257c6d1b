import tarfile
from pathlib import Path

from orchestrator.artifacts.archive import digest, source_files, tar_once


def tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / "b.py").write_text("B = 2\n")
    return root


def test_sources_leave_out_bytecode_caches(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    assert [p.relative_to(root).as_posix() for p in source_files(root)] == ["b.py", "pkg/a.py"]


def test_digest_follows_content(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    before = digest(source_files(root), root)
    (root / "b.py").write_text("B = 3\n")
    assert digest(source_files(root), root) != before


def test_archive_is_written_once_with_the_given_names(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    archive = tar_once(tmp_path / "out" / "x.tar", ((p, f"runner/{p.relative_to(root)}") for p in source_files(root)))
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["runner/b.py", "runner/pkg/a.py"]
    stamp = archive.stat().st_mtime_ns
    assert tar_once(archive, iter(())) == archive and archive.stat().st_mtime_ns == stamp
    assert not list(archive.parent.glob("*.partial"))
