"""Where the Apache Kafka jars come from, in order of preference:

1. ``KAFKA_HOME`` — an unpacked Apache Kafka distribution; its ``libs/`` is used as is.
2. ``ORCHESTRATE_KAFKA_TARBALL`` — a path or URL to ``kafka_2.13-X.tgz``, unpacked into the cache.
3. Maven Central through ``mvn`` and ``tools/kafka/pom.xml`` (the default here).

Cached results live in ``${XDG_CACHE_HOME:-~/.cache}/orchestrate/kafka/<version>/libs``. A marker
file is written only after a complete download, so an interrupted one is redone next time.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from orchestrator.artifacts.cache import cache_dir
from orchestrator.artifacts.maven import require_tool, run_mvn
from orchestrator.errors import RunError, ToolMissingError

POM = Path(__file__).resolve().parents[2] / "tools" / "kafka" / "pom.xml"
MARKER = ".complete"


def kafka_libs(version: str) -> Path:
    """A directory holding every jar a Kafka ``version`` broker and its tools need."""
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not any(libs.glob("kafka_*.jar")):
            raise ToolMissingError(f"KAFKA_HOME={home}: {libs} holds no kafka_*.jar; point it at an unpacked Kafka")
        return libs
    libs = cache_dir("kafka") / version / "libs"
    if (libs / MARKER).exists():
        return libs
    tarball = os.environ.get("ORCHESTRATE_KAFKA_TARBALL")
    if libs.exists():
        shutil.rmtree(libs)
    libs.mkdir(parents=True)
    if tarball:
        _unpack_tarball(tarball, libs)
    else:
        _maven_download(version, libs)
    (libs / MARKER).write_text(version + "\n")
    return libs


def java_classpath(version: str) -> str:
    return str(kafka_libs(version) / "*")


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return require_tool("java", "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)")


def _maven_download(version: str, libs: Path) -> None:
    run_mvn([f"-Dkafka.version={version}", "dependency:copy-dependencies", f"-DoutputDirectory={libs}"],
            f"{POM}: Kafka {version}", POM)
    if not any(libs.glob("kafka_*.jar")):
        raise RunError(f"{POM}: mvn could not resolve Kafka {version}: no kafka_*.jar in {libs}")


def _unpack_tarball(source: str, libs: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kafka-tgz-") as tmp:
        archive = Path(source)
        if "://" in source:
            archive = Path(tmp) / "kafka.tgz"
            try:
                with urllib.request.urlopen(source, timeout=60) as resp, archive.open("wb") as out:
                    shutil.copyfileobj(resp, out)
            except OSError as err:
                raise RunError(f"ORCHESTRATE_KAFKA_TARBALL={source}: download failed: {err}") from None
        if not archive.is_file():
            raise ToolMissingError(f"ORCHESTRATE_KAFKA_TARBALL={source}: no such file")
        try:
            with tarfile.open(archive) as tar:
                jars = [m for m in tar.getmembers() if m.isfile() and m.name.split("/")[-2:-1] == ["libs"]]
                for member in jars:
                    member.name = Path(member.name).name
                    tar.extract(member, libs, filter="data")
        except tarfile.TarError as err:
            raise RunError(f"ORCHESTRATE_KAFKA_TARBALL={source}: not a Kafka tarball: {err}") from None
    if not any(libs.glob("kafka_*.jar")):
        raise RunError(f"ORCHESTRATE_KAFKA_TARBALL={source}: no libs/kafka_*.jar inside")
