"""Benchmark: what the controller (the machine running ``orchestrate apply``) spends driving 1, 2
and 4 remote agents.

    PYTHONPATH=. .venv/bin/python bench/agent_scaling.py [--agents 1 2 4] [--layouts shared per-agent]
        [--duration 60] [--rate-per-agent 500] [--json FILE]

Needs root and network namespaces (as tests/integration/test_provision_ssh.py): one lab of hosts on
this machine (tests/integration/netns_lab.py), each host a namespace with its own sshd, one broker
host and up to four agent hosts. For each layout and agent count, ``orchestrate apply`` provisions
the broker over SSH and runs one steady phase of native load from the agents, then ``destroy``
removes it. Layouts:

- ``shared``: one producer and one consumer workload, each with an instance on every agent (two
  workloads, whatever the agent count);
- ``per-agent``: a producer and a consumer workload per agent (2 × agents workloads), as a plan
  that gives each agent its own load writes it.

apply runs in a cgroup of its own, so everything it starts on the controller (ansible-playbook, the
SSH clients and their ControlPersist masters) is counted and nothing on the agents is: their sshd and
runners are the lab's. Sampled every 0.25 s: the cgroup's CPU time, the summed RSS of its
processes and the ansible-playbook processes in it. Reported over the steady phase (its start and
end from summary.json): controller CPU as a share of one core, apply's own part, CPU per agent and
per playbook run, playbook runs per minute and peak summed RSS. Linear or better means the CPU per
agent does not grow with the agent count. Traffic stays on the lab's bridge.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from producer_perf import machine  # noqa: E402

from tests.integration.netns_lab import NETNS_SKIP_REASON, NamespaceLab  # noqa: E402

SAMPLE_EVERY_S = 0.25
APPLY_TIMEOUT_S = 1200
MESSAGE_SIZE = "1KiB"


class ControllerCgroup:
    """A cgroup (v1 cpuacct, else v2) that apply and everything it forks stay in."""

    def __init__(self) -> None:
        name = f"orchestrate-bench-{uuid.uuid4().hex[:6]}"
        v1 = Path("/sys/fs/cgroup/cpuacct")
        v2 = next((Path(line.split()[1]) for line in Path("/proc/mounts").read_text().splitlines()
                   if line.split()[2] == "cgroup2"), None)
        if v1.is_dir():
            self.path, self._usage = v1 / name, self._usage_v1
        elif v2 is not None:
            self.path, self._usage = v2 / name, self._usage_v2
        else:
            raise SystemExit("needs cgroups (v1 cpuacct or v2) to account the controller's processes")
        self.path.mkdir()

    def _usage_v1(self) -> float:
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def _usage_v2(self) -> float:
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def cpu_s(self) -> float:
        return self._usage()

    def join(self) -> None:
        """Runs in the child between fork and exec."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]

    def remove(self) -> None:
        """Kills what is left (ControlPersist masters outlive apply) and removes the cgroup."""
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            for pid in self.pids():
                try:
                    psutil.Process(pid).kill()
                except psutil.Error:
                    pass
            time.sleep(0.1)
        self.path.rmdir()


@dataclass
class Sample:
    at: float  # epoch s
    cpu_s: float  # the cgroup's CPU so far
    apply_cpu_s: float  # apply's own process's
    rss_mb: float  # summed over the cgroup's processes
    playbooks: frozenset[int]  # pids of ansible-playbook processes alive


def sample(group: ControllerCgroup, apply_pid: int) -> Sample:
    rss, apply_cpu = 0, 0.0
    playbook_parents: dict[int, int] = {}  # ansible-playbook pid -> its parent's
    for pid in group.pids():
        try:
            proc = psutil.Process(pid)
            rss += proc.memory_info().rss
            if pid == apply_pid:
                times = proc.cpu_times()
                apply_cpu = times.user + times.system
            elif any("ansible-playbook" in part for part in proc.cmdline()[:2]):
                playbook_parents[pid] = proc.ppid()
        except psutil.Error:
            continue
    # a playbook's task workers are forks with its command line: count the playbooks, not them
    playbooks = frozenset(pid for pid, parent in playbook_parents.items() if parent not in playbook_parents)
    return Sample(time.time(), group.cpu_s(), apply_cpu, rss / 2**20, playbooks)


@dataclass
class Result:
    layout: str
    agents: int
    workloads: int
    window_s: float
    messages: int
    controller_cpu_s: float
    apply_cpu_s: float
    playbook_runs: int
    peak_rss_mb: float
    exit_code: int

    @property
    def cores(self) -> float:
        return self.controller_cpu_s / self.window_s

    @property
    def cpu_per_agent_s(self) -> float:
        """Controller CPU seconds per agent per second of run."""
        return self.cores / self.agents

    @property
    def cpu_per_playbook_s(self) -> float:
        return self.controller_cpu_s / self.playbook_runs if self.playbook_runs else 0.0


def write_plan(root: Path, lab: NamespaceLab, agents: int, layout: str, duration_s: int, rate: int) -> Path:
    broker, *agent_hosts = lab.hosts[:agents + 1]
    connection = {"connection": "ssh", "user": "root", "ssh_key": str(lab.key)}
    names = [h.name for h in agent_hosts]
    if layout == "shared":
        workloads = [{"name": "p", "kind": "producer", "topic": "scale", "rate": f"{rate * agents}/s",
                      "message": {"size": MESSAGE_SIZE}, "instances": agents, "agents": names},
                     {"name": "c", "kind": "consumer", "topic": "scale", "instances": agents, "agents": names,
                      "drain": "5s"}]
    else:
        workloads = [w for i, name in enumerate(names) for w in (
            {"name": f"p{i}", "kind": "producer", "topic": "scale", "rate": f"{rate}/s",
             "message": {"size": MESSAGE_SIZE}, "agents": [name]},
            {"name": f"c{i}", "kind": "consumer", "topic": "scale", "agents": [name], "drain": "5s"})]
    plan = {
        "metadata": {"name": f"agent-scaling-{layout}-{agents}-{uuid.uuid4().hex[:4]}"},
        "target": {"kind": "provisioned"},
        "inventory": {"hosts": [
            {"name": broker.name, "address": broker.address, "roles": ["broker"],
             "data_dir": str(root / "broker"), **connection},
            *({"name": h.name, "address": h.address, "roles": ["agent"], "data_dir": str(root / h.name), **connection}
              for h in agent_hosts)]},
        "provision": {"heap": "512MiB", "os_tuning": False,
                      "properties": {"offsets.topic.num.partitions": 1, "offsets.topic.replication.factor": 1,
                                     "group.initial.rebalance.delay.ms": 0}},
        "topics": [{"name": "scale", "partitions": max(agents, 1)}],
        "workloads": workloads,
        "phases": [{"name": "steady", "kind": "steady", "duration": f"{duration_s}s"}],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def orchestrate(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import sys; from orchestrator.cli import main; sys.exit(main())",
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def at(samples: list[Sample], when: float, field: str) -> float:
    """A cumulative field at ``when``, interpolated between the samples around it."""
    before = max((s for s in samples if s.at <= when), key=lambda s: s.at, default=samples[0])
    after = min((s for s in samples if s.at >= when), key=lambda s: s.at, default=samples[-1])
    if after.at == before.at:
        return getattr(before, field)
    share = (when - before.at) / (after.at - before.at)
    return getattr(before, field) + share * (getattr(after, field) - getattr(before, field))


def run_one(work: Path, lab: NamespaceLab, agents: int, layout: str, duration_s: int, rate: int) -> Result:
    root = work / f"{layout}-{agents}"
    root.mkdir(parents=True)
    plan = write_plan(root, lab, agents, layout, duration_s, rate)
    env = {**os.environ, "XDG_STATE_HOME": str(root / "state")}
    group = ControllerCgroup()
    samples: list[Sample] = []
    output: list[str] = []
    apply = orchestrate("apply", str(plan), "--run-dir", str(root / "run"), "--progress-every", "0",
                        env=env, preexec_fn=group.join)
    try:
        reader = threading.Thread(target=lambda: output.extend(apply.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + APPLY_TIMEOUT_S
        while apply.poll() is None:
            if time.monotonic() > deadline:
                apply.kill()
                raise SystemExit(f"{layout}/{agents}: apply did not end in {APPLY_TIMEOUT_S} s")
            samples.append(sample(group, apply.pid))
            time.sleep(SAMPLE_EVERY_S)
        reader.join(timeout=10)
    finally:
        if apply.poll() is None:  # interrupted: apply tears its run down on SIGINT
            apply.send_signal(signal.SIGINT)
            apply.wait(timeout=300)
        # in the cgroup too: the SSH masters it leaves behind must not serve (uncounted) the next apply
        destroy = orchestrate("destroy", str(plan), env=env, preexec_fn=group.join)
        destroy.communicate(timeout=300)
        group.remove()
    if apply.returncode not in (0, 1):
        raise SystemExit(f"{layout}/{agents}: apply exited {apply.returncode}:\n{''.join(output)[-3000:]}")
    summary = json.loads((root / "run" / "summary.json").read_text())
    steady = next(p for p in summary["phases"] if p["name"] == "steady")
    start, end = steady["start"], steady["end"]
    inside = [s for s in samples if start <= s.at <= end]
    seen_before = set().union(*(s.playbooks for s in samples if s.at < start))
    runs = set().union(*(s.playbooks for s in inside)) - seen_before
    return Result(layout, agents, len(summary["workloads"]), end - start,
                  sum(w["messages"] for w in summary["workloads"] if w["kind"] == "producer"),
                  at(samples, end, "cpu_s") - at(samples, start, "cpu_s"),
                  at(samples, end, "apply_cpu_s") - at(samples, start, "apply_cpu_s"),
                  len(runs), max((s.rss_mb for s in inside), default=0.0), apply.returncode)


def table(results: list[Result]) -> str:
    rows = ["| layout | agents | workloads | messages | playbook runs/min | controller CPU (cores) | "
            "of which apply | CPU per agent (cores) | CPU per playbook run s | peak RSS MB | per agent ÷ 1 agent |",
            "| --- |" + " ---: |" * 10]
    for r in results:
        first = next(f for f in results if f.layout == r.layout and f.agents == min(
            x.agents for x in results if x.layout == r.layout))
        rows.append("| " + " | ".join([
            r.layout, str(r.agents), str(r.workloads), f"{r.messages:,}", f"{r.playbook_runs / r.window_s * 60:.1f}",
            f"{r.cores:.3f}", f"{r.apply_cpu_s / r.window_s:.3f}", f"{r.cpu_per_agent_s:.3f}",
            f"{r.cpu_per_playbook_s:.2f}" if r.playbook_runs else "–", f"{r.peak_rss_mb:.0f}",
            f"**{r.cpu_per_agent_s / first.cpu_per_agent_s:.2f}**"]) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 2, 4], choices=range(1, 9))
    parser.add_argument("--layouts", nargs="+", default=["shared", "per-agent"], choices=["shared", "per-agent"])
    parser.add_argument("--duration", type=int, default=60, help="seconds of the steady phase")
    parser.add_argument("--rate-per-agent", type=int, default=500, help="msg/s each agent produces")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    # so that a kill still runs the clean-up below: apply's teardown, destroy, the lab's removal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.geteuid() != 0 or NETNS_SKIP_REASON:
        raise SystemExit(f"needs root and network namespaces: {NETNS_SKIP_REASON or 'not root'}")
    print(machine())
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"agent-scaling-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    os.chmod(work, 0o755)
    lab = NamespaceLab(work, ["nsbroker", *(f"nsagent{i}" for i in range(max(args.agents)))])
    results: list[Result] = []
    try:
        lab.up()
        for layout in args.layouts:
            for agents in sorted(args.agents):
                results.append(run_one(work, lab, agents, layout, args.duration, args.rate_per_agent))
                print(f"  {layout} × {agents}: {asdict(results[-1])}", flush=True)
    finally:
        lab.down()
    print(f"\nsteady phase {args.duration} s, {args.rate_per_agent} msg/s per agent, {MESSAGE_SIZE}, one broker host\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
