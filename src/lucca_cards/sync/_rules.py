"""What Cards accepts: the checks that decide whether an employee can be imported.

The matching key is the lower-cased, trimmed professional email (DESIGN). An employee is
not imported, with the reason said, when the email is missing, shared with another
employee, or one Cards would refuse, or when Cards would refuse the name.

Names and emails come from Lucca and are untrusted: one holding a control character, a
bidirectional control or no visible character is refused with the reason (see
:mod:`lucca_cards._untrusted`), never cleaned and sent.
"""

from __future__ import annotations

import re

from .._untrusted import text_problem
from ..cards.models import MAX_TEXT_LENGTH
from ..state._keys import email_key

# ASSUMPTION (cards-api.md gap 11): Cards validates emails with Laravel's `email` rule,
# whose exact flavour is not documented. This is the conservative reading: an ASCII local
# part and a dotted domain. An address it refuses is reported, never sent to be refused
# one by one. Change it here if a real tenant accepts more (or less).
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)

NO_EMAIL = "no professional email in Lucca"


#: The matching key of an email (trimmed, lower-cased): the one the state database stores.
match_key = email_key


def email_problem(key: str) -> str | None:
    """Return why Cards would refuse the (matching-key) email, or ``None``."""
    # Said first and plainly: "holds a control character (U+0007)" tells the HR admin what
    # to fix in Lucca, where "is not one Cards accepts" would not.
    problem = text_problem("the email", key)
    if problem:
        return f"{problem}; fix it in Lucca"
    if len(key) > 255 or not _EMAIL.fullmatch(key):
        return f"email {key!r} is not one Cards accepts"
    return None


def name_problem(given_name: str | None, family_name: str | None) -> str | None:
    """Return why Cards would refuse the names of a new account, or ``None``.

    The names are checked trimmed, as they are sent: a stray blank, tab or newline at
    either end is dropped; one inside, or any other untrusted character, refuses them.
    """
    for label, value in (("first name", given_name or ""), ("last name", family_name or "")):
        sent = value.strip()
        if not sent:
            return f"the {label} is empty; Cards requires it"
        problem = text_problem(f"the {label}", sent)
        if problem:
            return f"{problem}; fix it in Lucca"
        if len(sent) > MAX_TEXT_LENGTH:
            return (f"the {label} has {len(sent)} characters; Cards accepts "
                    f"{MAX_TEXT_LENGTH} at most")
    return None
