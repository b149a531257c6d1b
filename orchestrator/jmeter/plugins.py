"""JMeter plugins: the Kafka plugin families we recognise, plugin jars from paths or Maven
coordinates, and which classes a set of jars provides.

Maven plugins are resolved with their dependencies into
``${XDG_CACHE_HOME:-~/.cache}/orchestrate/jmeter-plugins/<group>/<artifact>/<version>/`` (a marker
file says it is complete): the plugin's own jar apart, its dependencies in ``deps/``.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import RunError, ToolMissingError
from orchestrator.artifacts.cache import cache_dir
from orchestrator.artifacts.maven import run_mvn
from orchestrator.templating import render_template

COORDINATES = re.compile(r"^([\w.-]+):([\w.-]+):([\w.-]+)$")
MARKER = ".complete"


@dataclass(frozen=True)
class PluginFamily:
    name: str
    prefixes: tuple[str, ...]
    kafka: bool
    maven: str | None  # group:artifact when Maven Central has it
    source: str  # where a user gets the jar

    def owns(self, class_name: str) -> bool:
        return class_name.startswith(self.prefixes)


FAMILIES = (
    PluginFamily("Pepper-Box", ("com.gslab.pepper.",), True, None,
                 "not on Maven Central: build it from GSLabDev/pepper-box (mvn package)"),
    PluginFamily("kafkameter", ("co.signal.kafkameter.", "co.signal.loadgen."), True, None,
                 "not on Maven Central: build it from BrightTag/kafkameter (mvn package)"),
    PluginFamily("DI-Kafkameter", ("com.di.jmeter.kafka.",), True, None,
                 "not on Maven Central: take di-kafkameter-<version>.jar from rollno748/di-kafkameter releases"),
    PluginFamily("KLoadGen", ("com.sngular.kloadgen.", "net.coru.kloadgen."), True, "com.sngular:kloadgen",
                 "on Maven Central as com.sngular:kloadgen:<version>"),
    PluginFamily("JMeter Plugins", ("kg.apc.",), False, None,
                 "from jmeter-plugins.org (Maven Central group kg.apc)"),
)


def family_of(class_name: str) -> PluginFamily | None:
    return next((f for f in FAMILIES if f.owns(class_name)), None)


def missing_class_hint(class_name: str, workload: str) -> str:
    """One line: which class is missing and how to supply it."""
    family = family_of(class_name)
    what = f"{class_name} ({family.name})" if family else class_name
    where = f"; {family.name} is {family.source}" if family else ""
    example = f"{family.maven}:<version>" if family and family.maven else "path/to/plugin.jar"
    return (f"class {what} is not on JMeter's classpath; add its jar to workload {workload!r}: "
            f"plugins: [{example}]{where}")


@dataclass(frozen=True)
class PluginJars:
    plugin: list[Path]  # go to lib/ext (JMeter scans them for test elements)
    dependencies: list[Path]  # go to lib/


def resolve_plugins(entries: list[str], base: Path) -> PluginJars:
    """Jars for ``plugins:`` entries: paths (relative to ``base``) or group:artifact:version."""
    plugin: list[Path] = []
    deps: list[Path] = []
    for entry in entries:
        match = COORDINATES.match(entry)
        path = (base / entry).resolve()
        if path.is_file() and path.suffix == ".jar":
            plugin.append(path)
        elif match and not entry.endswith(".jar"):
            main, extra = maven_plugin(*match.groups())
            plugin.append(main)
            deps += extra
        else:
            raise ToolMissingError(f"plugin {entry!r}: no such jar ({path}) and not Maven coordinates group:artifact:version")
    return PluginJars(plugin, deps)


def maven_plugin(group: str, artifact: str, version: str) -> tuple[Path, list[Path]]:
    home = cache_dir("jmeter-plugins") / group / artifact / version
    if not (home / MARKER).exists():
        _download(group, artifact, version, home)
    main = home / f"{artifact}-{version}.jar"
    return main, sorted((home / "deps").glob("*.jar"))


def _download(group: str, artifact: str, version: str, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    pom = home / "pom.xml"
    pom.write_text(render_template("jmeter-plugin-pom.xml.j2", group=group, artifact=artifact, version=version))
    coords = f"{group}:{artifact}:{version}"
    try:
        run_mvn(["dependency:copy-dependencies", f"-DoutputDirectory={home / 'deps'}"], f"plugin {coords}", pom)
    except RunError as err:
        raise ToolMissingError(f"plugin {coords}: cannot resolve it from Maven Central ({err})") from None
    main = home / "deps" / f"{artifact}-{version}.jar"
    if not main.is_file():
        raise ToolMissingError(f"plugin {coords}: Maven delivered no {main.name}")
    main.rename(home / main.name)
    (home / MARKER).write_text(coords + "\n")


def classes_in(jars: list[Path]) -> set[str]:
    """Fully qualified names of the classes these jars hold."""
    found: set[str] = set()
    for jar in jars:
        try:
            with zipfile.ZipFile(jar) as archive:
                found.update(n[:-6].replace("/", ".") for n in archive.namelist()
                             if n.endswith(".class") and "$" not in n and not n.startswith("META-INF/"))
        except (OSError, zipfile.BadZipFile) as err:
            raise ToolMissingError(f"{jar}: not a readable jar: {err}") from None
    return found
