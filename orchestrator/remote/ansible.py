"""Runs the playbooks in playbooks/ through ansible-runner and turns its events into typed results.

Each call is one ansible-runner job in ``private_data_dir`` with its own ``ident``, so its
artifacts (``artifacts/<ident>/stdout``, ``job_events/``) stay side by side for later reading.
The environment handed to ansible-runner is recorded in its ``command`` artifact, so it is built
from an allow-list rather than copied from ours: a secret exported for the load clients never
lands on disk. A secret a playbook needs on its hosts is asked for by the playbook
(``vars_prompt``, private) and typed into ansible-playbook's terminal by ansible-runner
(``answers``): it is never on the command line, in the environment or in the artifacts.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestrator.errors import ProvisionError, ToolMissingError

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
# ORCHESTRATE_RUN: apply's tag (orchestrator.execute.lifeline), so a dead apply's playbooks, and the
# jobs they left on loopback hosts, are found and stopped
_INHERITED = ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "SSH_AUTH_SOCK", "JAVA_HOME",
              "XDG_CACHE_HOME", "XDG_STATE_HOME", "ORCHESTRATE_RUN")


@dataclass(frozen=True)
class TaskEvent:
    """One task starting or its outcome on one host, as streamed to the progress display."""

    playbook: str
    host: str
    task: str
    status: str  # started, ok, changed, skipped, failed, unreachable, ignored
    message: str = ""


EventSink = Callable[[TaskEvent], None]


@dataclass
class PlaybookResult:
    playbook: str
    facts: dict[str, dict[str, object]] = field(default_factory=dict)  # host -> facts set by set_fact
    done: dict[str, list[str]] = field(default_factory=dict)  # host -> tasks that ran (ok or changed)
    failures: list[TaskEvent] = field(default_factory=list)

    def first_failure(self) -> TaskEvent | None:
        return self.failures[0] if self.failures else None


def _environment() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env["PATH"] = f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    env.update({
        "ANSIBLE_ROLES_PATH": str(PLAYBOOKS / "roles"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_SSH_RETRIES": "0",
        "ANSIBLE_PIPELINING": "True",
        # a playbook's later plays reuse the facts its first one gathered for the same host
        "ANSIBLE_GATHERING": "smart",
        # ansible-runner turns host key checking off; ssh hosts get accept-new with a per-plan known_hosts
        "ANSIBLE_HOST_KEY_CHECKING": "True",
    })
    return env


def _last_line(text: object) -> str:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _message(res: dict) -> str:
    if res.get("msg") == "non-zero return code":  # Ansible's words for any failed command: say what it said
        said = _last_line(res.get("stderr")) or _last_line(res.get("stdout"))
        if said:
            return f"exit status {res.get('rc', '?')}: {said}"
    for key in ("msg", "stderr", "stdout", "reason"):
        text = res.get(key)
        if isinstance(text, str) and text.strip():
            return " ".join(line.strip() for line in text.splitlines() if line.strip()) if key == "msg" else _last_line(text)
    results = res.get("results")
    if isinstance(results, list):
        failed = [r for r in results if isinstance(r, dict) and r.get("failed")]
        if failed:
            return _message(failed[0])
    return "failed"


_STATUS = {"runner_on_start": "started", "runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable",
           "runner_on_skipped": "skipped", "runner_item_on_failed": None}


def _event(playbook: str, raw: dict) -> TaskEvent | None:
    status = _STATUS.get(raw.get("event", ""))
    if status is None:
        return None
    data = raw.get("event_data", {})
    res = data.get("res") or {}
    if status == "ok" and res.get("changed"):
        status = "changed"
    if status == "failed" and data.get("ignore_errors"):
        status = "ignored"
    if status == "unreachable" and res.get("skip_reason"):
        status = "ignored"
    message = _message(res) if status in ("failed", "unreachable", "ignored") else str(res.get("msg", ""))
    return TaskEvent(playbook, data.get("host", "?"), data.get("task", "?").strip(), status, message)


def run_playbook(playbook: str, private_data_dir: Path, inventory: dict[str, object],
                 extravars: dict[str, object], ident: str, on_event: EventSink | None = None,
                 tolerate_failures: bool = False, answers: dict[str, str] | None = None) -> PlaybookResult:
    """Runs ``playbooks/<playbook>``; raises ProvisionError for the first failed or unreachable
    task unless ``tolerate_failures`` (teardown keeps going and reports instead). ``answers``:
    the playbook's ``vars_prompt`` prompt ▶ the line to type in reply."""
    try:
        from ansible_runner import Runner, RunnerConfig
    except ImportError as err:
        raise ToolMissingError(f"ansible-runner is not installed in {sys.prefix}: {err}") from None
    private_data_dir.mkdir(parents=True, exist_ok=True)
    inventory_file = private_data_dir / "inventory" / f"{ident}.yml"
    inventory_file.parent.mkdir(exist_ok=True)
    inventory_file.write_text(yaml.safe_dump(inventory, sort_keys=False))
    result = PlaybookResult(playbook)

    def handle(raw: dict) -> bool:
        event = _event(playbook, raw)
        if event is None:
            return True
        if event.status in ("ok", "changed"):
            result.done.setdefault(event.host, []).append(event.task)
            facts = (raw.get("event_data", {}).get("res") or {}).get("ansible_facts") or {}
            result.facts.setdefault(event.host, {}).update(
                {k: v for k, v in facts.items() if not k.startswith(("ansible_", "discovered_"))})
        if event.status in ("failed", "unreachable"):
            result.failures.append(event)
        if on_event is not None:
            on_event(event)
        return True

    config = RunnerConfig(private_data_dir=str(private_data_dir), playbook=str(PLAYBOOKS / playbook),
                          inventory=str(inventory_file), extravars=extravars, ident=ident, quiet=True,
                          suppress_env_files=True, rotate_artifacts=20,
                          passwords={rf"{re.escape(prompt)}:\s*$": answer for prompt, answer in (answers or {}).items()})
    config.prepare()
    ours = _environment()
    # keep what ansible-runner itself set (callback plugin, artifact paths), drop the rest of os.environ
    config.env = {**{k: v for k, v in config.env.items() if os.environ.get(k) != v}, **ours}
    runner = Runner(config=config, event_handler=handle)
    runner.run()
    failure = result.first_failure()
    if failure is not None and not tolerate_failures:
        raise ProvisionError(failure.host, failure.task, failure.message)
    if failure is None and runner.rc != 0 and not tolerate_failures:
        raise ProvisionError("-", playbook, f"ansible-playbook exited {runner.rc}; see "
                             f"{private_data_dir / 'artifacts' / ident / 'stdout'}")
    return result


class PlaybookJob:
    """A playbook run in a background thread, so components can start side by side; ``wait``
    returns its result or raises what it raised."""

    def __init__(self, *args: object, **kwargs: object):
        self._result: PlaybookResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._target, args=args, kwargs=kwargs, daemon=True)
        self._thread.start()

    def _target(self, *args: object, **kwargs: object) -> None:
        try:
            self._result = run_playbook(*args, **kwargs)  # type: ignore[arg-type]
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits
            self._error = err

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> PlaybookResult:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
