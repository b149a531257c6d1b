"""The report in a real browser: headless Chromium renders it without console errors, and the
screenshot is not blank."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image
import pytest
import yaml

from orchestrator.plan.models import Plan
from orchestrator.report.build import write_outputs
from orchestrator.rundir import RunDir
from tests.fakes import PLAN_YAML, rich_measured

pytestmark = pytest.mark.integration

# reports any script error or console message into the DOM, where --dump-dom shows it
ERROR_HOOK = ("<script>window.onerror=function(m){document.title='JS-ERROR '+m};"
              "console.error=function(m){document.title='JS-ERROR '+m};</script>")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", *args],
            capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = RunDir.create("demo", explicit=tmp_path_factory.mktemp("run"))
    write_outputs(run, Plan.model_validate(yaml.safe_load(PLAN_YAML)), rich_measured(300))
    return run.report_html


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1400,3000", report.as_uri())
    assert shot.is_file(), result.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 3000 and pixels.shape[1] == 1400
    assert pixels[..., :3].std() > 0.05  # a blank page is one colour


def _title_after_load(page: str, tmp_path: Path) -> tuple[str, str]:
    hooked = tmp_path / "hooked.html"
    hooked.write_text(page.replace("<head>", "<head>" + ERROR_HOOK, 1))
    # virtual time lets the page's timers and deferred redraws run before the DOM is dumped
    result = _chromium("--virtual-time-budget=3000", "--dump-dom", hooked.as_uri())
    title = re.search(r"<title>(.*?)</title>", result.stdout, re.S)
    assert title is not None, result.stderr[-2000:]
    return title.group(1), result.stderr


def test_no_console_errors(report, tmp_path):
    title, log = _title_after_load(report.read_text(), tmp_path)
    assert not title.startswith("JS-ERROR"), title
    assert "Uncaught" not in log and ":CONSOLE(" not in log


def test_the_error_hook_catches_errors(tmp_path):
    title, _ = _title_after_load("<html><head><title>t</title></head><body><script>nope()</script></body></html>", tmp_path)
    assert title.startswith("JS-ERROR")


def test_charts_are_interactive_and_a_zoom_on_one_is_followed_by_all(report, tmp_path):
    # after load: count the uPlot charts, zoom the first to 10 s ▶ 50 s, read the last one's x range
    probe = ("<script>window.addEventListener('load',function(){var p=window.orchestrateCharts||[];"
             "if(!p.length){document.title='CHARTS 0';return;}p[0].setScale('x',{min:10,max:50});"
             "setTimeout(function(){var x=p[p.length-1].scales.x;document.title='CHARTS '+p.length+' '+x.min+' '+x.max;},500);"
             "});</script>")
    title, _ = _title_after_load(report.read_text().replace("</body>", probe + "</body>"), tmp_path)
    count, low, high = title.split()[1:]
    assert int(count) >= 5 and (float(low), float(high)) == (10.0, 50.0), title
