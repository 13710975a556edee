"""Typed models of the Cards REST API (snake_case on the wire, as in Cards' own JSON)."""

from __future__ import annotations

import enum


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
