"""``lucca-cards events process`` and ``events list``: the inbox of Lucca events.

``webhooks serve`` stores Lucca's events and, by default, applies them at once on a
worker thread. ``events process`` applies what waits in the inbox once (for a receiver
run with ``--no-process``, or from cron after an outage); ``events list`` shows it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from .._untrusted import printable
from ..config import Settings
from ._args import add_config_option, add_group
from ._output import cut, guarded, print_json, print_report
from ._state import add_state_option, open_state

_STATUSES = ("pending", "failed", "held", "applied")


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
    for parser in (process, listing):
        add_config_option(parser)
        add_state_option(parser)
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    process.set_defaults(run=lambda args: process_command(args))
    listing.set_defaults(run=lambda args: list_command(args))


def process_command(args: argparse.Namespace, *, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Run ``lucca-cards events process``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        from ..sync.events import EventProcessor

        settings = Settings.load(args.config)
        with open_state(args, settings) as state, \
                EventProcessor.from_settings(settings, state) as processor:
            report = processor.process(force=args.force, dry_run=args.dry_run)
        print_report(report, args.json, out)
        return 0 if report.ok else 1

    return guarded(command, err, interrupted="The events applied so far are marked; the "
                   "others are still in the inbox for the next run.")


def list_command(args: argparse.Namespace, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Run ``lucca-cards events list``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        from ..state.inbox import LuccaInbox

        settings = Settings.load(args.config)
        with open_state(args, settings, create=False) as state:
            inbox = LuccaInbox(state)
            events = list(inbox.events(args.status))
            counts = inbox.counts()
        if args.json:
            print_json({"counts": counts, "events": [_row(e) for e in events]}, out)
            return 0
        shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "empty"
        print(f"inbox: {shown}", file=out)
        for event in events:
            error = f"  {cut(printable(event.last_error), 60)}" if event.last_error else ""
            print(f"{event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.status:<8} "
                  f"{printable(event.topic):<22} employee {printable(event.employee_id or '-')}"
                  f"{error}", file=out)
        return 0

    return guarded(command, err, interrupted="Nothing was changed.")


def _row(event: object) -> dict[str, object]:
    names = ("source", "event_id", "topic", "occurred_at", "received_at", "employee_id",
             "status", "attempts", "last_error", "next_attempt_at")
    row = {name: getattr(event, name) for name in names}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}

