"""The words of the previews and reports, generated from the enums that define them.

Each value of :class:`~lucca_cards.UserState` (a preview's state) and of
:class:`~lucca_cards.SyncOutcome` (a report's outcome), with the docstring written under
it in the code: the docs and the code say the same thing, always.
"""

from __future__ import annotations

import ast
import enum
import inspect
import textwrap

from lucca_cards import SyncOutcome, UserState


def meanings(kind: type[enum.Enum]) -> list[tuple[str, str]]:
    """Return ``(value, docstring)`` for each member, read from the enum's source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(kind)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    found: dict[str, str] = {}
    for statement, following in zip(body, body[1:]):
        if (isinstance(statement, ast.Assign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)):
            found[statement.targets[0].id] = " ".join(  # type: ignore[attr-defined]
                str(following.value.value).split())
    missing = [member.name for member in kind if member.name not in found]
    if missing:
        raise ValueError(f"{kind.__name__}: no docstring under {missing}: the docs need one")
    return [(member.value, found[member.name]) for member in kind]


def table(kind: type[enum.Enum], title: str) -> list[str]:
    """Return a list-table of ``kind``'s values and what each means."""
    lines = [f".. list-table:: {title}", "   :header-rows: 1", "   :widths: 22 78", "",
             "   * - word", "     - what it means"]
    for value, meaning in meanings(kind):
        lines += [f"   * - ``{value.replace('_', ' ')}``", f"     - {meaning}"]
    return lines + [""]


def page() -> str:
    """Return the tables of a users preview's states and of a report's outcomes."""
    lines = [*table(UserState, "A users preview's states"),
             *table(SyncOutcome, "A report's outcomes (every import, sync and publish)")]
    return "\n".join(lines)
