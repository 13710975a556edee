"""Import Lucca departments as Cards groups: preview, dry run, import, report.

    python examples/import_departments.py                               # the bundled sandbox
    python examples/import_departments.py --config lucca-cards.toml     # a tenant: plan only
    python examples/import_departments.py --config lucca-cards.toml --apply --department 12

Each chosen department gets a Cards group of the same name; each of its employees gets a
Cards account (created if missing) and joins the group, keeping every group they were in.
Against a real tenant nothing is written without ``--apply``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from _connect import connect  # beside this script: tenant or sandbox

from lucca_cards import (
    ConnectionMode,
    DepartmentImporter,
    DepartmentRow,
    LinkStore,
    LuccaCardsError,
    SyncOutcome,
    SyncReport,
)


def describe_preview(rows: list[DepartmentRow]) -> str:
    """Return one line per department: members, whether its group exists, who is missing."""
    lines = []
    for row in rows:
        group = "group exists" if row.group_exists else "no group yet"
        twins = f", shares its name with {', '.join(row.same_name)}" if row.same_name else ""
        lines.append(f"{row.department.id:>5}  {row.name}: {row.members} members, {group}, "
                     f"{row.missing} to add{twins}")
    return "\n".join(lines)


def import_departments(
    importer: DepartmentImporter,
    *,
    department_ids: Sequence[str] | None = None,
    apply: bool,
    notify: bool = False,
    connection_mode: ConnectionMode = ConnectionMode.PASSWORD,
    say: Callable[[str], None] = print,
) -> SyncReport:
    """Preview, dry run, then (with ``apply``) import; return the last report."""
    say(describe_preview(importer.preview()))
    # The dry run's notes are worth reading before applying: departments that share a
    # name end up in one group, and an empty department gets no group (Cards creates a
    # group only by putting someone in it).
    plan = importer.run(department_ids, notify=notify, connection_mode=connection_mode,
                        dry_run=True)
    say(str(plan))
    for note in plan.notes:
        say(f"note: {note}")
    if not apply:
        return plan
    # Memberships are written as the union of the user's groups and the new one, so
    # groups managed by hand in Cards survive the import.
    report = importer.run(department_ids, notify=notify, connection_mode=connection_mode)
    say(str(report))
    for item in report.of(SyncOutcome.FAILED):
        say(f"failed: {item.name} -> {item.group}: {item.reason}")  # rerun to retry
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a lucca-cards TOML file (default: the sandbox)")
    parser.add_argument("--department", action="append", metavar="ID",
                        help="import only this department (repeatable; default: all)")
    parser.add_argument("--apply", action="store_true",
                        help="import after the dry run (always done on the sandbox)")
    parser.add_argument("--state", default=":memory:",
                        help="a SQLite file that remembers links between runs")
    args = parser.parse_args()
    try:
        with connect(args.config) as (settings, lucca, cards), LinkStore(args.state) as links:
            report = import_departments(DepartmentImporter(lucca, cards, links=links),
                                        department_ids=args.department,
                                        apply=args.apply or args.config is None,
                                        notify=settings.import_notify,
                                        connection_mode=settings.import_connection_mode)
    except LuccaCardsError as error:  # every SDK error says what failed and what to do
        raise SystemExit(f"error: {error}") from None
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
