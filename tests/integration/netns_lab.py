"""A lab of hosts on this machine: a bridge in this namespace plus one network namespace per host,
each with its own address on a private /24 and its own sshd. Provisioning tests and the agent
benchmark reach them over real SSH; traffic stays on the bridge they create."""

from __future__ import annotations

import random
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

PRIVATE = "10.213"  # a /24 of it exists only on the bridge a lab creates
SSHD = "/usr/sbin/sshd"


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


def unused_subnet() -> str:
    """A 10.213.x.0/24 nothing on this machine routes yet (test sessions may run side by side)."""
    for _ in range(50):
        subnet = f"{PRIVATE}.{random.randint(1, 254)}"
        if not sh("ip", "-4", "route", "show", f"{subnet}.0/24").strip():
            return subnet
    raise RuntimeError(f"no free /24 in {PRIVATE}.0.0/16")


def netns_permitted() -> str | None:
    """None when this machine lets the test create namespaces, else why not."""
    if shutil.which("ip") is None or not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        return "needs iproute2 (ip) and openssh-server (sshd, ssh-keygen)"
    probe = f"orchp{uuid.uuid4().hex[:6]}"
    try:
        sh("ip", "netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as err:
        return f"'ip netns add' is not permitted here: {getattr(err, 'stderr', b'').decode().strip() or err}"
    sh("ip", "netns", "del", probe)
    return None


NETNS_SKIP_REASON = netns_permitted()


@dataclass
class NamespaceHost:
    name: str
    netns: str
    address: str
    sshd_pid: int | None = None  # set once its sshd listens


class NamespaceLab:
    """A bridge in this namespace plus one namespace per host, each running sshd on its address."""

    def __init__(self, root: Path, names: list[str]):
        tag = uuid.uuid4().hex[:5]
        self.root, self.bridge, self.subnet = root, f"orbr{tag}", unused_subnet()
        self.hosts = [NamespaceHost(n, f"orch{tag}{i}", f"{self.subnet}.{10 + i}") for i, n in enumerate(names)]
        self.key = root / "id_ed25519"
        self.veths: list[str] = []

    def up(self) -> None:
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "host_key"))
        (self.root / "authorized_keys").write_text(self.key.with_suffix(".pub").read_text())
        sh("ip", "link", "add", "name", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        for i, host in enumerate(self.hosts):
            outer, inner = f"{self.bridge}o{i}", f"{self.bridge}i{i}"
            sh("ip", "netns", "add", host.netns)
            sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
            self.veths.append(outer)
            sh("ip", "link", "set", outer, "master", self.bridge, "up")
            sh("ip", "link", "set", inner, "netns", host.netns)
            inside = ("ip", "netns", "exec", host.netns)
            sh(*inside, "ip", "addr", "add", f"{host.address}/24", "dev", inner)
            sh(*inside, "ip", "link", "set", inner, "up")
            sh(*inside, "ip", "link", "set", "lo", "up")
            self._sshd(host)

    def _sshd(self, host: NamespaceHost) -> None:
        config = self.root / f"sshd-{host.name}.conf"
        pidfile = self.root / f"sshd-{host.name}.pid"
        config.write_text("\n".join([
            f"ListenAddress {host.address}", "Port 22", f"HostKey {self.root / 'host_key'}",
            f"PidFile {pidfile}", f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""]))
        log = self.root / f"sshd-{host.name}.log"
        sh("ip", "netns", "exec", host.netns, SSHD, "-f", str(config), "-E", str(log))
        deadline = time.monotonic() + 15
        while not (pidfile.exists() and pidfile.read_text().strip()):  # written once it listens
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd in {host.netns} did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.1)
        host.sshd_pid = int(pidfile.read_text().strip())

    def down(self) -> None:
        for host in self.hosts:
            if host.sshd_pid is not None and psutil.pid_exists(host.sshd_pid):
                psutil.Process(host.sshd_pid).terminate()
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True, timeout=30)
        for veth in self.veths:
            subprocess.run(["ip", "link", "del", veth], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=30)
