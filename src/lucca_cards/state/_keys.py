"""The matching key of DESIGN.md (trimmed, lower-cased professional email), in one place.

The state database stores it and the sync services match on it
(:data:`lucca_cards.sync._rules.match_key` is this function): ``state`` sits below
``sync``, so it lives here.
"""

from __future__ import annotations


def email_key(email: str | None) -> str | None:
    """Return the stored form of an email: trimmed and lower-cased (``None`` if blank).

    >>> email_key("  Jean.Martin@ACME.fr ")
    'jean.martin@acme.fr'
    """
    key = (email or "").strip().lower()
    return key or None
