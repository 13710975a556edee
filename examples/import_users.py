"""Import Lucca employees into Cards: preview, dry run, import, report.

    python examples/import_users.py                                     # the bundled sandbox
    python examples/import_users.py --config lucca-cards.toml           # a tenant: plan only
    python examples/import_users.py --config lucca-cards.toml --apply   # … and import

Against a real tenant nothing is written without ``--apply``: the plan is printed first,
for a person to read. Notify and connection mode come from the ``[import]`` table of the
TOML file (or ``CARDS_IMPORT_NOTIFY`` / ``CARDS_IMPORT_CONNECTION_MODE``).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

from _connect import connect  # beside this script: tenant or sandbox

from lucca_cards import (
    ConnectionMode,
    LinkStore,
    LuccaCardsError,
    SyncOutcome,
    SyncReport,
    UserImporter,
    UserRow,
    UserState,
)


def describe_preview(rows: list[UserRow]) -> str:
    """Return the preview as Cards' "User Sync" screen sums it up, refusals explained."""
    counts = Counter(row.state for row in rows)
    lines = [f"{counts[state]:5d}  {state.value.replace('_', ' ')}" for state in UserState]
    lines += [f"       - {row.name}: {row.reason}"
              for row in rows if row.state is UserState.CANNOT_BE_IMPORTED]
    return "\n".join(lines)


def import_users(
    importer: UserImporter,
    *,
    apply: bool,
    notify: bool = False,
    connection_mode: ConnectionMode = ConnectionMode.PASSWORD,
    say: Callable[[str], None] = print,
) -> SyncReport:
    """Preview, dry run, then (with ``apply``) import; return the last report."""
    say(describe_preview(importer.preview()))
    # A dry run plans exactly what the import would send, so what is printed here is
    # what a person approves, notify and connection mode included.
    plan = importer.run(dry_run=True, notify=notify, connection_mode=connection_mode)
    say(str(plan))
    if not apply:
        return plan
    # The import plans again from fresh reads rather than replaying `plan`: whatever
    # changed in between (a new hire, an account created by hand) is taken into account,
    # and matching by email means a rerun after a crash never creates a duplicate.
    report = importer.run(notify=notify, connection_mode=connection_mode)
    say(str(report))
    for line in report.lines([SyncOutcome.FAILED]):
        say(line)  # failures do not stop the others; rerunning retries just them
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a lucca-cards TOML file (default: the sandbox)")
    parser.add_argument("--apply", action="store_true",
                        help="import after the dry run (always done on the sandbox)")
    parser.add_argument("--state", default=":memory:",
                        help="a SQLite file that remembers links between runs")
    args = parser.parse_args()
    try:
        with connect(args.config) as (settings, lucca, cards), LinkStore(args.state) as links:
            report = import_users(UserImporter(lucca, cards, links=links),
                                  apply=args.apply or args.config is None,
                                  notify=settings.import_notify,
                                  connection_mode=settings.import_connection_mode)
    except LuccaCardsError as error:  # every SDK error says what failed and what to do
        raise SystemExit(f"error: {error}") from None
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
