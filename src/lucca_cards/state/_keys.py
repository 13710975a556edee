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
    # The email itself when it is its own key (the usual case): a sweep of 50 000
    # employees then holds one string per email, not two.
    return (email if key == email else key) or None
