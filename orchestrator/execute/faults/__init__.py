"""The fault actions: one class per action, registered here under the name the plan uses.

``orchestrator.plan.faults.ACTIONS`` says what the plan accepts and what each action needs on the
host; this table says what runs it. A test keeps the two equal, so an action the plan accepts always
has an implementation and nothing falls back to another action.
"""

from __future__ import annotations

from orchestrator.execute.faults.base import FaultAction
from orchestrator.execute.faults.decommission import Decommission
from orchestrator.execute.faults.disk import DiskFull
from orchestrator.execute.faults.network import NetworkDegrade, NetworkPartition
from orchestrator.execute.faults.rolling import RollingRestart
from orchestrator.execute.faults.signals import KillFault, PauseFault, StopFault

FAULTS: dict[str, type[FaultAction]] = {
    "broker_stop": StopFault,
    "broker_kill": KillFault,
    "broker_pause": PauseFault,
    "disk_full": DiskFull,
    "rolling_restart": RollingRestart,
    "decommission": Decommission,
    "network_partition": NetworkPartition,
    "network_degrade": NetworkDegrade,
}
