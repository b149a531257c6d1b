"""Apache JMeter assembled from Maven Central in its official layout.

    bin/ApacheJMeter.jar        the ``ApacheJMeter`` artefact (NewDriver: builds the classpath from lib/)
    bin/jmeter                  our launcher (no artefact ships one); honours JVM_ARGS
    bin/jmeter.properties ...   unpacked from ``ApacheJMeter_config`` (with report-template/)
    lib/                        jorphan, groovy, kafka-clients and every other third-party jar
    lib/ext/                    every other ``ApacheJMeter_*`` artefact

``JMETER_HOME`` (an unpacked JMeter) wins over the cache at
``${XDG_CACHE_HOME:-~/.cache}/orchestrate/jmeter/<version>``, which is complete once its marker exists.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from orchestrator.artifacts.cache import cache_dir
from orchestrator.errors import ToolMissingError
from orchestrator.artifacts.kafka import java_binary
from orchestrator.artifacts.maven import run_mvn
from orchestrator.templating import render_template

POM = Path(__file__).resolve().parents[2] / "tools" / "jmeter" / "pom.xml"
DEFAULT_VERSION = "5.6.3"
MARKER = ".complete"
# Non-GUI JMeter listens for UDP shutdown commands on every interface; a port <= 1000 turns it off.
NO_UDP_LISTENER = "-Jjmeterengine.nongui.port=0"


def jmeter_home(version: str = DEFAULT_VERSION) -> Path:
    """Where JMeter is (or will be, once ``ensure_jmeter`` ran)."""
    explicit = os.environ.get("JMETER_HOME")
    return Path(explicit) if explicit else cache_dir("jmeter") / version


def ensure_jmeter(version: str = DEFAULT_VERSION) -> Path:
    """JMeter's home directory, assembled on first use."""
    home = jmeter_home(version)
    if os.environ.get("JMETER_HOME"):
        if not (home / "bin" / "ApacheJMeter.jar").is_file():
            raise ToolMissingError(f"JMETER_HOME={home}: no bin/ApacheJMeter.jar there; point it at an unpacked JMeter")
        return home
    if (home / MARKER).exists():
        return home
    java_binary()
    cache_dir("jmeter").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{version}.partial-", dir=cache_dir("jmeter")) as tmp:
        staging = Path(tmp) / "jars"
        run_mvn([f"-Djmeter.version={version}", "dependency:copy-dependencies",
                 f"-DoutputDirectory={staging}"], f"{POM}: JMeter {version}", POM)
        built = Path(tmp) / "home"
        _assemble(staging, built, version)
        if home.exists():
            shutil.rmtree(home)
        built.rename(home)
    (home / MARKER).write_text(version + "\n")
    return home


def launcher(home: Path) -> Path:
    """The ``bin/jmeter`` script: ours in the cache, the official one under JMETER_HOME."""
    return home / "bin" / "jmeter"


def jmeter_command(home: Path, *args: str) -> list[str]:
    """A non-GUI JMeter command line without the UDP shutdown listener, e.g. ``-g kpi.jtl -o report/``."""
    return [str(launcher(home)), "-n", NO_UDP_LISTENER, *args]


def _assemble(staging: Path, home: Path, version: str) -> None:
    bin_dir, lib, ext = home / "bin", home / "lib", home / "lib" / "ext"
    for d in (bin_dir, ext, lib / "junit"):  # lib/junit: where the JUnit sampler looks, as in the official layout
        d.mkdir(parents=True)
    for jar in staging.glob("*.jar"):
        # JMeter's own jars lose their version, as in the official distribution; third-party jars keep it
        plain = jar.name.removesuffix(f"-{version}.jar") + ".jar" if jar.name.endswith(f"-{version}.jar") else jar.name
        if plain == "ApacheJMeter.jar":
            shutil.move(jar, bin_dir / plain)
        elif plain == "ApacheJMeter_config.jar":
            _unpack_bin(jar, home)
        elif plain.startswith("ApacheJMeter_"):
            shutil.move(jar, ext / plain)
        else:
            shutil.move(jar, lib / plain)
    if not (bin_dir / "ApacheJMeter.jar").is_file() or not (ext / "ApacheJMeter_core.jar").is_file():
        raise ToolMissingError(f"{POM}: Maven did not deliver ApacheJMeter.jar and ApacheJMeter_core.jar for {version}")
    script = launcher(home)
    script.write_text(render_template("jmeter-launcher.sh.j2", version=version))
    script.chmod(0o755)


def _unpack_bin(config_jar: Path, home: Path) -> None:
    with zipfile.ZipFile(config_jar) as jar:
        for member in jar.namelist():
            if member.startswith("bin/") and not member.endswith("/"):
                jar.extract(member, home)
