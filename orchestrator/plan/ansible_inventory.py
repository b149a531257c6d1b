"""An existing Ansible inventory (``inventory.path``) ▶ the plan's ``Host`` models.

ansible-core itself reads the file (``ansible-inventory --list``), so INI, YAML and TOML inventories,
child groups, and ``group_vars/`` / ``host_vars/`` beside the file mean what they mean to Ansible.
Only those static formats are enabled: loading a plan never runs an inventory script or plugin,
which could run arbitrary code or reach the network.

Roles come from group membership, direct or through child groups (``ROLE_GROUPS``); hosts in none of
those groups are ignored. The host variables in ``HOSTVARS`` become Host fields; every other variable
is ignored, so nothing else of the inventory reaches the plan, its resolved copy or the reports.
Connection and become passwords are rejected rather than ignored: orchestrate connects with SSH keys,
and would otherwise have to write the password into the inventory it hands ansible-runner.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pydantic import ValidationError

from orchestrator.errors import InputError, ToolMissingError
from orchestrator.plan.models import PLAN_DIR, Host

ROLE_GROUPS = {"broker": ("brokers", "broker"), "controller": ("controllers", "controller"),
               "agent": ("agents", "agent")}
# Host field ▶ the host variables that set it, the first present wins (Ansible's older ansible_ssh_* aliases too)
HOSTVARS = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "ssh_key": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    "python": ("ansible_python_interpreter",),
    "kafka_port": ("kafka_port",),
    "controller_port": ("controller_port",),
    "node_id": ("node_id",),
    "rack": ("rack",),
    "data_dir": ("data_dir",),
}
_INT_FIELDS = {"port", "kafka_port", "controller_port", "node_id"}
_CONNECTIONS = {"ssh": "ssh", "smart": "ssh", "local": "local"}
_PASSWORD = re.compile(r"^ansible_(\w+_)?(pass|password|passphrase)$")
TIMEOUT_S = 60


def read_inventory(path: Path) -> list[Host]:
    """The hosts of the inventory at ``path`` that are in a role group; raises InputError naming the file."""
    listing = _ansible_list(path)
    hostvars = listing.get("_meta", {}).get("hostvars", {})
    roles = _roles(listing)
    if not roles:
        groups = ", ".join(g for names in ROLE_GROUPS.values() for g in names)
        raise InputError(f"{path}: no host is in a group orchestrate reads roles from ({groups})")
    return [_host(path, name, host_roles, hostvars.get(name, {})) for name, host_roles in roles.items()]


def _ansible_list(path: Path) -> dict:
    exe = Path(sys.executable).parent / "ansible-inventory"
    # static formats only; a file (or a file in a directory) Ansible cannot parse is an error, not a warning
    env = {**os.environ, "ANSIBLE_INVENTORY_ENABLED": "yaml,toml,ini", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
           "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true", "ANSIBLE_NOCOLOR": "1"}
    try:
        done = subprocess.run([str(exe), "-i", str(path), "--list"], capture_output=True, text=True,
                              timeout=TIMEOUT_S, env=env, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise ToolMissingError(f"{exe}: not found; orchestrate needs ansible-core in its own environment") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"{path}: ansible-inventory did not finish reading it within {TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise InputError(f"{path}: Ansible cannot read this inventory: {_reason(done.stderr)}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: ansible-inventory printed no JSON listing ({err.msg})") from None


def _reason(stderr: str) -> str:
    """Ansible's first parse failure: that of the plugin matching the file type, since yaml and toml
    only try their own extensions, before ini. (ansible-core 2.19 names no line in these messages.)"""
    failure = re.search(r"Failed to parse inventory with '\w+' plugin: (.*)", stderr)
    if failure is not None:
        return failure.group(1).strip()
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1].removeprefix("[ERROR]: ") if lines else "no reason given"


def _members(listing: dict, group: str) -> list[str]:
    entry = listing.get(group, {})
    hosts = list(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts.extend(_members(listing, child))
    return hosts


def _roles(listing: dict) -> dict[str, list[str]]:
    """Host name ▶ its roles, hosts in the order they first appear in a role group."""
    roles: dict[str, list[str]] = {}
    for role, groups in ROLE_GROUPS.items():
        for group in groups:
            for name in _members(listing, group):
                if role not in roles.setdefault(name, []):
                    roles[name].append(role)
    return roles


def _host(path: Path, name: str, roles: list[str], hostvars: dict[str, object]) -> Host:
    where = f"{path}: host {name}"
    if secret := next((var for var in hostvars if _PASSWORD.match(var)), None):
        raise InputError(f"{where}: sets {secret}; orchestrate does not take passwords from an inventory: "
                         "use SSH keys (ansible_ssh_private_key_file) and passwordless sudo")
    connection = hostvars.get("ansible_connection", "ssh")
    if connection not in _CONNECTIONS:
        raise InputError(f"{where}: ansible_connection {connection!r} is not supported: use ssh or local")
    fields: dict[str, object] = {"name": name, "roles": roles, "connection": _CONNECTIONS[connection]}
    source: dict[str, str] = {}
    for field, variables in HOSTVARS.items():
        var = next((v for v in variables if v in hostvars), None)
        if var is not None:
            fields[field], source[field] = _coerce(field, hostvars[var]), var
    fields.setdefault("address", name)
    base = path if path.is_dir() else path.parent
    try:
        return Host.model_validate(fields, context={PLAN_DIR: str(base)})
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise InputError(f"{where}: {source.get(field, field)}: {first['msg']}") from None


def _coerce(field: str, value: object) -> object:
    """INI ``[group:vars]`` values arrive as strings, and bare numbers as ints where text is meant."""
    if field in _INT_FIELDS and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if field not in _INT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value
