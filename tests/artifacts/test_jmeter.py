import subprocess

import pytest

from orchestrator.errors import ToolMissingError
from orchestrator.artifacts.jmeter import NO_UDP_LISTENER, ensure_jmeter, jmeter_command


def test_jmeter_home_without_jar_is_a_missing_tool(tmp_path, monkeypatch):
    monkeypatch.setenv("JMETER_HOME", str(tmp_path))
    with pytest.raises(ToolMissingError, match="no bin/ApacheJMeter.jar"):
        ensure_jmeter()


def test_jmeter_home_is_taken_as_is(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "ApacheJMeter.jar").write_bytes(b"")
    monkeypatch.setenv("JMETER_HOME", str(tmp_path))
    assert ensure_jmeter() == tmp_path


def test_command_is_non_gui_without_the_udp_listener(tmp_path):
    cmd = jmeter_command(tmp_path, "-g", "kpi.jtl")
    assert cmd[:3] == [str(tmp_path / "bin" / "jmeter"), "-n", NO_UDP_LISTENER]
    assert cmd[-2:] == ["-g", "kpi.jtl"]


@pytest.mark.integration
def test_assembled_jmeter_has_the_official_layout_and_runs(monkeypatch, tmp_path):
    monkeypatch.delenv("JMETER_HOME", raising=False)
    home = ensure_jmeter("5.6.3")
    assert (home / "bin" / "jmeter.properties").is_file()
    assert (home / "bin" / "report-template").is_dir()
    assert (home / "lib" / "ext" / "ApacheJMeter_java.jar").is_file()
    assert any(home.glob("lib/groovy-*.jar")) and any(home.glob("lib/kafka-clients-*.jar"))
    # JMeter writes jmeter.log into its working directory
    done = subprocess.run(jmeter_command(home, "-v"), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0
    assert "5.6.3" in done.stdout
