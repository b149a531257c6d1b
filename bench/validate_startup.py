"""Benchmark: the wall time of a cold ``orchestrate validate`` of the largest example plan.

    .venv/bin/python bench/validate_startup.py [--plan plans/broker-failure-recovery.yaml] [--runs 9] [--json FILE]

Each run is a new ``python -m orchestrator.cli validate PLAN`` process, timed from fork to exit
(wall) with its user + system CPU from the kernel's accounting. Two sets, one after the other:

- ``bytecode cache``: as after any pip install, Python reads the modules' cached bytecode (kept
  in a temporary ``PYTHONPYCACHEPREFIX``, written by one warm-up run, so the checkout stays clean);
- ``no bytecode cache``: ``PYTHONDONTWRITEBYTECODE=1`` and no prefix: the installed packages' own
  cached bytecode is read, and orchestrate's modules are compiled from source each time unless the
  checkout already holds ``__pycache__`` directories (how a shell with that variable set runs it).

It also checks that ``validate`` imports neither matplotlib nor ``orchestrator.report``
(``-X importtime``) and prints the ten slowest imports. Prints a Markdown table for
docs/benchmarks.md and the machine, with its load average before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from producer_perf import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("matplotlib", "orchestrator.report")


def _command(plan: Path) -> list[str]:
    return [sys.executable, "-m", "orchestrator.cli", "validate", str(plan)]


def _one(plan: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one cold validate process."""
    began = time.perf_counter()
    proc = subprocess.Popen(_command(plan), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"validate {plan} exited {proc.returncode}: {proc.stderr.read().decode().strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def _environment(cache: bool, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = str(ROOT)
    if cache:
        env["PYTHONPYCACHEPREFIX"] = prefix
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _imports(plan: Path, env: dict[str, str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Every module one validate imports, and (cumulative µs, module) of its top-level imports, slowest first."""
    err = subprocess.run([sys.executable, "-X", "importtime", *_command(plan)[1:]], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stderr
    names, top = [], []
    for line in err.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cumulative, name = line.split(":", 1)[1].split("|")
            names.append(name.strip())
            if not name.startswith("  "):  # nested imports are indented under their importer
                top.append((int(cumulative), name.strip()))
    return names, sorted(top, reverse=True)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--plan", type=Path, default=ROOT / "plans" / "broker-failure-recovery.yaml")
    args.add_argument("--runs", type=int, default=9, help="timed runs per set, after one warm-up run")
    args.add_argument("--json", type=Path)
    opts = args.parse_args()
    print(machine())
    results = {}
    with tempfile.TemporaryDirectory(prefix="validate-pyc-") as cached:
        for label, cache in (("bytecode cache", True), ("no bytecode cache", False)):
            env = _environment(cache, cached)
            _one(opts.plan, env)  # warm-up: page cache, and the bytecode cache of the first set
            runs = [_one(opts.plan, env) for _ in range(opts.runs)]
            results[label] = {"wall_s": [w for w, _ in runs], "cpu_s": [c for _, c in runs]}
        names, imports = _imports(opts.plan, _environment(True, cached))
    pulled = [f for f in FORBIDDEN if any(n == f or n.startswith(f + ".") for n in names)]
    print(f"\nvalidate {opts.plan.relative_to(ROOT) if opts.plan.is_relative_to(ROOT) else opts.plan}, "
          f"{opts.runs} cold processes per set after a warm-up\n")
    if any((ROOT / "orchestrator").rglob("__pycache__")):
        print("(the checkout holds __pycache__ directories: the second set reads them too)\n")
    print("| set | wall s: min | median | max | CPU s: median |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, r in results.items():
        print(f"| {label} | {min(r['wall_s']):.3f} | {statistics.median(r['wall_s']):.3f} | {max(r['wall_s']):.3f} "
              f"| {statistics.median(r['cpu_s']):.3f} |")
    print(f"\nimports of {', '.join(FORBIDDEN)}: {', '.join(pulled) if pulled else 'none'}")
    print("slowest top-level imports (cumulative ms): "
          + ", ".join(f"{name} {us / 1000:.0f}" for us, name in imports[:10]))
    if opts.json:
        opts.json.write_text(json.dumps({"machine": machine(), "plan": str(opts.plan), "results": results,
                                         "forbidden_imports": pulled}, indent=2))


if __name__ == "__main__":
    main()
