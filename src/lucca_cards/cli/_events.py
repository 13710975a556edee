"""``lucca-cards events process``, ``list`` and ``prune``: the inbox of Lucca events.

``webhooks serve`` stores Lucca's events and, by default, applies them at once on a
worker thread. ``events process`` applies what waits in the inbox once (for a receiver
run with ``--no-process``, or from cron after an outage); ``events list`` shows it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

from .._untrusted import printable
from ..config import Settings
from ._args import add_config_option, add_group, positive
from ._output import cut, guarded, plural, print_json, print_report
from ._state import add_state_option, open_state

_STATUSES = ("pending", "failed", "held", "applied")
#: Events ``events list`` shows by default (the newest).
LISTED = 100
#: Days of applied events ``events prune`` keeps by default (Lucca keeps two months).
KEPT_DAYS = 60


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``events`` command group."""
    actions = add_group(
        commands, "events", dest="action", metavar="ACTION",
        help="apply or list the Lucca events waiting in the inbox",
        description="The Lucca events the receiver stored (lucca-cards webhooks serve): "
        "apply those due, or list them.")
    process = actions.add_parser(
        "process", help="apply the due events once (hires, moves, email changes, leavers)",
        description="Apply every due event of the inbox with the life-cycle rules, in "
        "occurredAt order; failed events stay in the inbox and are retried later. Exit "
        "status: 0 when nothing failed, 1 when something failed or was held by the safety "
        "threshold, 2 for a configuration error.")
    process.add_argument("--dry-run", action="store_true",
                         help="print what would be done; write and mark nothing")
    process.add_argument("--force", action="store_true",
                         help="apply the offboardings held by the safety threshold too")
    listing = actions.add_parser(
        "list", help="list the events of the inbox", description="List the events of the "
        "inbox, oldest first: when they occurred, their topic, employee and status.")
    listing.add_argument("--status", choices=_STATUSES, default=None,
                         help="only the events with this status")
    listing.add_argument("--newest", type=positive, default=LISTED, metavar="N",
                         help=f"only the N newest events (default {LISTED})")
    prune = actions.add_parser(
        "prune", help="delete the applied events older than some days",
        description="Delete the events applied more than --days days ago: the inbox keeps "
        "every event until pruned, with the personal data of its body (Lucca keeps its "
        "own two months). Run it from cron, e.g. daily.")
    prune.add_argument("--days", type=positive, default=KEPT_DAYS, metavar="DAYS",
                       help=f"keep the events applied in the last DAYS days ({KEPT_DAYS})")
    for parser in (process, listing, prune):
        add_config_option(parser)
        add_state_option(parser)
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    process.set_defaults(run=lambda args: process_command(args))
    listing.set_defaults(run=lambda args: list_command(args))
    prune.set_defaults(run=lambda args: prune_command(args))


def process_command(args: argparse.Namespace, *, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Run ``lucca-cards events process``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        from ..sync.events import EventProcessor

        settings = Settings.load(args.config)
        with open_state(args, settings, create=not args.dry_run) as state, \
                EventProcessor.from_settings(settings, state) as processor:
            report = processor.process(force=args.force, dry_run=args.dry_run)
        print_report(report, args.json, out)
        return 0 if report.ok else 1

    return guarded(command, err, interrupted="The events of the batch under way stay in the "
                   "inbox (what was written stays written); the next run applies them, "
                   "writing only what still differs.")


def list_command(args: argparse.Namespace, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Run ``lucca-cards events list``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        from ..state.inbox import LuccaInbox

        settings = Settings.load(args.config)
        with open_state(args, settings, create=False) as state:
            inbox = LuccaInbox(state)
            events = list(inbox.events(args.status, newest=args.newest, payloads=False))
            counts = inbox.counts()
        if args.json:
            print_json({"counts": counts, "events": [_row(e) for e in events]}, out)
            return 0
        shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "empty"
        listed = sum(counts.values()) if args.status is None else counts.get(args.status, 0)
        more = f" (the {len(events)} newest shown)" if len(events) < listed else ""
        print(f"inbox: {shown}{more}", file=out)
        for event in events:
            error = f"  {cut(printable(event.last_error), 60)}" if event.last_error else ""
            print(f"{event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.status:<8} "
                  f"{printable(event.topic):<22} employee {printable(event.employee_id or '-')}"
                  f"{error}", file=out)
        return 0

    return guarded(command, err, interrupted="Nothing was changed.")


def prune_command(args: argparse.Namespace, *, out: TextIO | None = None,
                  err: TextIO | None = None) -> int:
    """Run ``lucca-cards events prune``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        from ..state.inbox import LuccaInbox

        settings = Settings.load(args.config)
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=args.days)
        with open_state(args, settings, create=False) as state:
            deleted = LuccaInbox(state).prune(cutoff)
        if args.json:
            print_json({"deleted": deleted, "applied_before": cutoff.isoformat()}, out)
        else:
            print(f"events prune: {plural(deleted, 'event')} applied before "
                  f"{cutoff:%Y-%m-%d %H:%M} UTC deleted", file=out)
        return 0

    return guarded(command, err, interrupted="Nothing was deleted, or all of it.")


def _row(event: object) -> dict[str, object]:
    names = ("source", "event_id", "topic", "occurred_at", "received_at", "employee_id",
             "status", "attempts", "last_error", "next_attempt_at")
    row = {name: getattr(event, name) for name in names}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}

