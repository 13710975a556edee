"""``lucca-cards users …`` and ``lucca-cards departments …``: preview and import from a shell.

Both groups share one shape (``preview`` and ``import``, the same options, the same exit
statuses); what differs, the importer and the preview's columns, lives in a
:class:`_Target` per group. Output goes through :mod:`._output` (escaped for a terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from .._untrusted import printable
from ..cards.client import CardsClient
from ..cards.models import ConnectionMode
from ..config import Settings
from ..lucca.client import LuccaOAuthClient
from ..sync import (
    DepartmentImporter,
    DepartmentRow,
    LinkStore,
    SyncReport,
    UserImporter,
    UserRow,
    UserState,
)
from ._args import add_config_option, add_group
from ._output import ProgressBar, cut, cut_left, guarded, plural, print_json, print_report
from ._state import add_state_option, open_state

_MODES = ("password", "sso")


class _Importer(Protocol):
    """What the commands need of :class:`UserImporter` and :class:`DepartmentImporter`."""

    def preview(self) -> Sequence[Any]: ...

    def why_not_considered(self, employee_ids: Iterable[str]) -> dict[str, str]: ...

    def run(
        self,
        ids: Iterable[str | int] | None = None,
        /,
        notify: bool = False,
        connection_mode: ConnectionMode | str = ConnectionMode.PASSWORD,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> SyncReport: ...


@dataclass(frozen=True)
class _Target:
    """One command group: its importer, what it selects, and its preview's shape."""

    command: str
    item: str
    build: Callable[[LuccaOAuthClient, CardsClient, LinkStore, float], _Importer]
    key: Callable[[Any], str]
    table: Callable[[Sequence[Any]], list[str]]
    as_dict: Callable[[Any], dict[str, Any]]
    counts: Callable[[Sequence[Any]], dict[str, Any]]


# -- users ----------------------------------------------------------------------------------


def _user_table(rows: Sequence[UserRow]) -> list[str]:
    counts = _user_counts(rows)
    summary = " · ".join(f"{count} {state.replace('_', ' ')}"
                         for state, count in counts.items() if count)
    lines = [f"{plural(len(rows), 'employee')}: {summary or 'none'}", "",
             f"{'ID':<8} {'NAME':<30} {'EMAIL':<36} {'STATE':<18} REASON"]
    for row in rows:
        lines.append(f"{printable(row.employee.id):<8} {cut(printable(row.name), 30):<30} "
                     f"{cut(printable(row.email or '(no email)'), 36):<36} "
                     f"{row.state.value.replace('_', ' '):<18} "
                     f"{printable(row.reason or '')}".rstrip())
    return lines


def _user_dict(row: UserRow) -> dict[str, Any]:
    return {
        "employee_id": row.employee.id,
        "name": row.name,
        "email": row.employee.email,
        "department_id": row.employee.department_id,
        "state": row.state.value,
        "reason": row.reason,
        "cards_user_id": row.cards_user.id if row.cards_user is not None else None,
    }


def _user_counts(rows: Sequence[UserRow]) -> dict[str, Any]:
    seen = Counter(row.state for row in rows)
    return {state.value: seen[state] for state in UserState}


USERS = _Target(
    command="users",
    item="employee",
    build=lambda lucca, cards, links, age: UserImporter(lucca, cards, links=links,
                                                        memberships_max_age=age),
    key=lambda row: str(row.employee.id),
    table=_user_table,
    as_dict=_user_dict,
    counts=_user_counts,
)


# -- departments ----------------------------------------------------------------------------


def _department_table(rows: Sequence[DepartmentRow]) -> list[str]:
    counts = _department_counts(rows)
    lines = [f"{plural(len(rows), 'department')}: {counts['with_group']} with a Cards group, "
             f"{counts['missing']} members still missing from their group", "",
             f"{'ID':<8} {'DEPARTMENT':<44} {'MEMBERS':>7}  {'GROUP':<6} {'MISSING':>7}  "
             "SHARES A NAME WITH"]
    for row in rows:
        shares = printable(", ".join(row.same_name))
        note = f"  ({printable(row.reason)})" if row.reason else ""
        where = cut_left(printable(row.path or row.name), 44)  # the department's own name stays
        lines.append(f"{printable(row.department.id):<8} {where:<44} "
                     f"{row.members:>7}  "
                     f"{'yes' if row.group_exists else 'no':<6} {row.missing:>7}  "
                     f"{shares}{note}".rstrip())
    return lines


def _department_dict(row: DepartmentRow) -> dict[str, Any]:
    return {
        "department_id": row.department.id,
        "name": row.name,
        "path": row.path,
        "parent_id": row.department.parent_id,
        "members": row.members,
        "group_exists": row.group_exists,
        "missing": row.missing,
        "same_name": list(row.same_name),
        "reason": row.reason,
    }


def _department_counts(rows: Sequence[DepartmentRow]) -> dict[str, Any]:
    return {"departments": len(rows), "with_group": sum(1 for r in rows if r.group_exists),
            "members": sum(r.members for r in rows), "missing": sum(r.missing for r in rows)}


DEPARTMENTS = _Target(
    command="departments",
    item="department",
    build=lambda lucca, cards, links, age: DepartmentImporter(
        lucca, cards, links=links, memberships_max_age=age),
    key=lambda row: str(row.department.id),
    table=_department_table,
    as_dict=_department_dict,
    counts=_department_counts,
)

TARGETS = {target.command: target for target in (USERS, DEPARTMENTS)}


# -- the parser -----------------------------------------------------------------------------


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` and ``departments`` command groups to ``lucca-cards``."""
    helps = {
        "users": "import Lucca employees as Cards users (matched by email)",
        "departments": "import Lucca departments as Cards groups, with their members",
    }
    for target in TARGETS.values():
        text = helps[target.command]
        actions = add_group(commands, target.command, dest="action", metavar="ACTION",
                            help=text, description=f"{text[0].upper()}{text[1:]}.")
        preview = actions.add_parser(
            "preview", help="show what an import would do; write nothing",
            description=f"List every {target.item} and what an import would do with it.")
        _add_shared(preview, target, required=False)
        importing = actions.add_parser(
            "import", help=f"import all {target.command} or the chosen ones",
            description=f"Import every {target.item} (--all) or the chosen ones. Exit "
            "status: 0 when no item failed, 1 when some failed (listed), 2 for a "
            "configuration error.")
        _add_shared(importing, target, required=True)
        importing.add_argument("--notify", action=argparse.BooleanOptionalAction, default=None,
                               help="send created users Cards' invitation email (default: "
                               "the import_notify setting)")
        importing.add_argument("--connection-mode", choices=_MODES, default=None,
                               help="how created users sign in (default: the "
                               "import_connection_mode setting)")
        importing.add_argument("--dry-run", action="store_true",
                               help="print the exact plan; write nothing")
        for parser in (preview, importing):
            parser.set_defaults(run=lambda args: run(args))


def _add_shared(parser: argparse.ArgumentParser, target: _Target, *, required: bool) -> None:
    chosen = parser.add_mutually_exclusive_group(required=required)
    chosen.add_argument("--all", action="store_true", help=f"every {target.item}")
    chosen.add_argument(f"--{target.item}", dest="ids", metavar="ID", nargs="+",
                        action="extend", help=f"only these {target.item} ids (repeatable)")
    add_config_option(parser)
    add_state_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


# -- running --------------------------------------------------------------------------------


def run(args: argparse.Namespace, *, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run ``lucca-cards users|departments preview|import``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    target = TARGETS[args.command]
    dry_run = getattr(args, "dry_run", False)
    bar = ProgressBar(f"{'dry run of' if dry_run else 'importing'} {target.command}",
                      "employees", enabled=not args.json, file=err)

    def command() -> int:
        settings = Settings.load(args.config)
        writing = args.action == "import" and not args.dry_run
        with LuccaOAuthClient.from_settings(settings) as lucca, \
                CardsClient.from_settings(settings) as cards, \
                open_state(args, settings, create=writing) as state:
            importer = target.build(lucca, cards, LinkStore(state),
                                    settings.cards_memberships_max_age)
            if args.action == "preview":
                return _preview(target, importer, args, out)
            return _import(target, importer, args, settings, bar, out, err)

    kept = ("Nothing was written (a dry run)." if dry_run else "What was written stays "
            "written; run the same command again to finish (matching by email makes no "
            "duplicate).")
    return guarded(command, err, interrupted=lambda: bar.so_far() + kept)


def _preview(target: _Target, importer: _Importer, args: argparse.Namespace,
             out: TextIO) -> int:
    rows = list(importer.preview())
    missing: list[str] = []
    if args.ids:
        wanted = list(dict.fromkeys(args.ids))
        by_key = {target.key(row): row for row in rows}
        rows = [by_key[i] for i in wanted if i in by_key]
        missing = [i for i in wanted if i not in by_key]
    # An employee asked for by id may be deactivated rather than absent: say which.
    why = importer.why_not_considered(missing) if missing and target.item == "employee" \
        else {}
    if args.json:
        print_json({"operation": target.command, "counts": target.counts(rows),
                    "rows": [target.as_dict(row) for row in rows], "not_found": missing,
                    "why_not_found": why}, out)
        return 0
    lines = [f"{target.command} preview: {line}" if n == 0 else line
             for n, line in enumerate(target.table(rows))]
    if why:
        lines += [printable(f"{target.item} {i}: {reason}") for i, reason in why.items()]
    elif missing:
        lines.append(f"not found in Lucca (among the {target.item}s considered): "
                     + printable(", ".join(missing)))
    print("\n".join(lines), file=out)
    return 0


def _import(target: _Target, importer: _Importer, args: argparse.Namespace,
            settings: Settings, bar: ProgressBar, out: TextIO, err: TextIO) -> int:
    notify = settings.import_notify if args.notify is None else args.notify
    mode = args.connection_mode or settings.import_connection_mode
    if not args.json:
        rate = settings.lucca_requests_per_minute
        pace = f"paced at {rate:g} requests a minute" if rate else "not paced"
        print(f"Reading Lucca ({pace}) and Cards…", file=err)
    with contextlib.closing(bar):
        report = importer.run(None if args.all else args.ids, notify=notify,
                              connection_mode=mode, dry_run=args.dry_run, progress=bar)
    print_report(report, args.json, out)
    return 0 if report.ok else 1
