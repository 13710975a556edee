"""Value types shared by the settings and the clients: the connection mode, the stats codes.

They live here, below both :mod:`lucca_cards.config` and the client packages, so that the
settings never import a client: data flows cli → sync → state and clients → transport, and
``config`` sits under the clients, which import :class:`~lucca_cards.Settings`.
``lucca_cards.cards.models`` and ``lucca_cards.lucca.training_records`` re-export them, so
``from lucca_cards.cards.models import ConnectionMode`` keeps working.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

from .errors import ConfigurationError

__all__ = ["ConnectionMode", "DepartmentScope", "LeaverAction", "StatsFieldCodes"]


class ConnectionMode(str, enum.Enum):
    """How imported users sign in to Cards; the value is the Cards user ``source``.

    >>> ConnectionMode("sso").source
    'sso'
    """

    PASSWORD = "app"
    SSO = "sso"

    @classmethod
    def _missing_(cls, value: object) -> ConnectionMode | None:
        # Accept the names people type ("password", "SSO") as well as the wire values.
        text = str(value).strip().lower()
        return {"password": cls.PASSWORD, "app": cls.PASSWORD, "sso": cls.SSO}.get(text)

    @property
    def source(self) -> str:
        """The value of the Cards user's ``source`` field for this mode."""
        return self.value


class LeaverAction(str, enum.Enum):
    """What the life-cycle rules do with the Cards account of an employee who left.

    >>> LeaverAction("remove-from-groups")
    <LeaverAction.REMOVE_FROM_GROUPS: 'remove-from-groups'>
    """

    REPORT = "report"
    """Write nothing: list the leaver in the report, for a human (the default)."""
    REMOVE_FROM_GROUPS = "remove-from-groups"
    """Keep the account (its history, certificates) but take it out of every group."""
    DELETE = "delete"
    """Delete the account, only if the integration created it; chosen explicitly."""


class DepartmentScope(str, enum.Enum):
    """Which departments' groups the life-cycle rules keep hires and movers in.

    >>> DepartmentScope("all").value
    'all'
    """

    IMPORTED = "imported"
    """The departments imported before (their Cards group exists), as the nightly sync."""
    ALL = "all"
    """Every department: a hire into a department without a group creates the group."""
    NONE = "none"
    """No department: hires get an account only; nobody joins or leaves a group."""


# ``e_`` then at least one character, none of them a blank or a control character: a
# code with a blank or a line break in it can only be a copy-paste accident.
_CODE = re.compile(r"e_[^\s\x00-\x1f\x7f]+")


def _is_code(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ConfigurationError(
            f"stats_codes.{attribute.name}",
            f"{value!r} is not a Lucca extended field code; codes start with e_ and hold no "
            "blank (e.g. e_formation): copy it from the field's settings in Lucca",
        )


@attrs.frozen(kw_only=True)
class StatsFieldCodes:
    """The codes of the compound field and of its five sub-fields, as set up in Lucca.

    >>> StatsFieldCodes(field="e_trainings", score="e_grade").score
    'e_grade'
    """

    field: str = attrs.field(default="e_formation", validator=_is_code)
    title: str = attrs.field(default="e_title", validator=_is_code)
    link: str = attrs.field(default="e_link", validator=_is_code)
    progress: str = attrs.field(default="e_progress", validator=_is_code)
    score: str = attrs.field(default="e_score", validator=_is_code)
    last_completion_date: str = attrs.field(default="e_last_completion_date", validator=_is_code)

    def sub_fields(self) -> dict[str, str]:
        """Map each :class:`~lucca_cards.TrainingRecord` attribute to its sub-field code."""
        return {
            "title": self.title,
            "link": self.link,
            "progress": self.progress,
            "score": self.score,
            "last_completion_date": self.last_completion_date,
        }
