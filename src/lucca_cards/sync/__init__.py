"""The sync services: import users and departments into Cards (statistics come next)."""

from ._plan import UserRow, UserState
from .departments import DepartmentImporter, DepartmentRow
from .links import LinkStore
from .report import SyncItem, SyncOutcome, SyncReport
from .users import UserImporter

__all__ = [
    "DepartmentImporter",
    "DepartmentRow",
    "LinkStore",
    "SyncItem",
    "SyncOutcome",
    "SyncReport",
    "UserImporter",
    "UserRow",
    "UserState",
]
