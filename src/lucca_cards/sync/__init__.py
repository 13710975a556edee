"""The sync services: import users and departments, the life cycle, the statistics."""

from ._plan import UserRow, UserState
from .departments import DepartmentImporter, DepartmentRow, department_path
from .events import EventProcessor
from .lifecycle import LifecycleSync
from .links import LinkStore
from .nightly import NightlyReport, nightly_sync
from .report import SyncItem, SyncOutcome, SyncReport
from .stats import StatsPlan, StatsPublisher
from .stats_format import StatsFormat
from .users import UserImporter

__all__ = [
    "DepartmentImporter",
    "DepartmentRow",
    "EventProcessor",
    "LifecycleSync",
    "LinkStore",
    "NightlyReport",
    "StatsFormat",
    "StatsPlan",
    "StatsPublisher",
    "SyncItem",
    "SyncOutcome",
    "SyncReport",
    "UserImporter",
    "UserRow",
    "UserState",
    "department_path",
    "nightly_sync",
]
