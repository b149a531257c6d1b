"""The exception tree. Library code raises these; only ``cli.py`` maps them to exit codes.

    OrchestrateError                 base; never raised itself
    ├── UsageError          (exit 2) a bad CLI argument or --set override
    ├── PlanError           (exit 2) an invalid plan; carries one PlanIssue per problem
    ├── InputError          (exit 2) a malformed input file (JMX, JTL, iostat, inventory); names file:line
    ├── RunError            (exit 3) the run could not be carried out
    │   ├── ToolMissingError         java, mvn, JMeter, bzt, iostat, a plugin jar ... is missing
    │   ├── BrokerError              the broker could not be started or reached
    │   ├── ProvisionError           an Ansible task failed; names host and task
    │   └── EngineError              a load engine failed to start or crashed

An SLO that does not hold is a result, not an error: apply and report return the summary and the
CLI exits 1 for a failed verdict.

Every message is a single line fit for a terminal: it names the file and line, or the host and
task, that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrchestrateError(Exception):
    exit_code = 3


class UsageError(OrchestrateError):
    exit_code = 2


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan file, printed as ``FILE:LINE:COL: path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PlanError(OrchestrateError):
    exit_code = 2

    def __init__(self, issues: list[PlanIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class InputError(OrchestrateError):
    exit_code = 2


class RunError(OrchestrateError):
    exit_code = 3


class ToolMissingError(RunError):
    pass


class BrokerError(RunError):
    pass


class ProvisionError(RunError):
    def __init__(self, host: str, task: str, message: str):
        self.host, self.task = host, task
        super().__init__(f"host {host}: task {task!r}: {message}")


class EngineError(RunError):
    pass
