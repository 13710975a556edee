"""``lucca-cards stats publish`` and ``lucca-cards stats show EMAIL``.

``publish`` writes the training ledger onto the Lucca employee files (with a progress bar,
a write budget and a dry run); ``show`` prints one learner's records from the ledger the
way the employee file shows them, without writing anything.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO

from .._untrusted import printable
from ..cards.client import CardsClient
from ..cards.models import Training
from ..config import Settings
from ..lucca.legacy import LuccaLegacyApiClient
from ..lucca.training_records import TrainingRecord
from ..state import LearnerTraining, TrainingLedger
from ..sync import StatsFormat, StatsPublisher
from ..sync._stats_plan import plan_file
from ._args import add_budget_options, add_config_option, add_group, budget
from ._output import ProgressBar, cut, guarded, print_json, print_report
from ._state import add_state_option, open_state

_COLUMNS = (("TRAINING", 40), ("PROGRESS", 9), ("SCORE", 9), ("COMPLETED", 11))


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``stats`` command group."""
    actions = add_group(
        commands, "stats", dest="action", metavar="ACTION",
        help="publish training statistics onto Lucca employee files",
        description="Publish the training ledger (fed by Cards webhooks) onto the Lucca "
        "employee files, or show one learner's records.")
    publish = actions.add_parser(
        "publish", help="write every employee file whose statistics changed",
        description="Write the training occurrences of every employee file that differs "
        "from the ledger, one PUT each, files never written first. Exit status: 0 when "
        "nothing failed, 1 when some files failed or the run stopped for safety, 2 for a "
        "configuration error.")
    publish.add_argument("--dry-run", action="store_true",
                         help="print what would be written; write nothing")
    add_budget_options(publish)
    publish.add_argument("--force", action="store_true",
                         help="write even if more than the allowed share of files would "
                         "lose occurrences (after trainings were deleted in Cards)")
    show = actions.add_parser(
        "show", help="print one learner's records as the employee file shows them",
        description="Print the training records of one learner (by email) from the "
        "ledger, formatted as they are written to Lucca; nothing is written.")
    show.add_argument("email", help="the learner's professional email")
    for parser in (publish, show):
        add_config_option(parser)
        add_state_option(parser)
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    publish.set_defaults(run=lambda args: publish_command(args))
    show.set_defaults(run=lambda args: show_command(args))


def publish_command(args: argparse.Namespace, *, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Run ``lucca-cards stats publish``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    label = "dry run of statistics" if args.dry_run else "publishing statistics"
    bar = ProgressBar(label, "files", enabled=not args.json, file=err)

    def command() -> int:
        settings = Settings.load(args.config)
        if not settings.stats_enabled:
            print_report(StatsPublisher.disabled_report(args.dry_run), args.json, out)
            return 0
        with LuccaLegacyApiClient.from_settings(settings) as legacy, \
                CardsClient.from_settings(settings) as cards, \
                open_state(args, settings, create=not args.dry_run) as state, \
                contextlib.closing(bar):
            ledger = TrainingLedger(state)
            report = StatsPublisher.from_settings(settings, legacy, cards, ledger).run(
                dry_run=args.dry_run, progress=bar, max_writes=args.max_writes,
                deadline=budget(args), force=args.force)
        print_report(report, args.json, out)
        return 0 if report.ok else 1

    return guarded(command, err, interrupted=lambda: bar.so_far() + "Files written stay "
                   "written; run the same command again to finish (it writes only what still "
                   "differs).")


def show_command(args: argparse.Namespace, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Run ``lucca-cards stats show EMAIL``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        settings = Settings.load(args.config)
        with open_state(args, settings, create=False) as state:
            states = TrainingLedger(state).records_for(args.email)
        records = _as_published(args.email, states, _trainings(settings) if states else None)
        if args.json:
            print_json({"email": args.email, "records": [_as_dict(r) for r in records]}, out)
        else:
            print("\n".join(_shown(args.email, records)), file=out)
        return 0

    return guarded(command, err, interrupted="Nothing was written.")


def _trainings(settings: Settings) -> dict[str, Training] | None:
    """Read the current titles and links from Cards (``None``: Cards is not configured)."""
    if settings.cards_tenant is None or settings.cards_api_key is None:
        return None
    with CardsClient.from_settings(settings) as cards:
        return {training.id: training for training in cards.trainings.list()}


def _as_published(email: str, states: Sequence[LearnerTraining],
                  trainings: dict[str, Training] | None) -> Sequence[TrainingRecord]:
    """Return what a publish writes for these states (the publisher's own rules).

    Without Cards, the ledger's titles stand in and no training is known to be gone.
    """
    if trainings is None:
        style = StatsFormat()
        return sorted((style.record(state) for state in states),
                      key=lambda record: record.title.casefold())
    return plan_file(user_id=0, name="", email=email, current=(), states=states,
                     trainings=trainings, style=StatsFormat()).desired


def _as_dict(record: TrainingRecord) -> dict[str, object]:
    done = record.last_completion_date
    return {"title": record.title, "link": record.link, "progress": record.progress,
            "score": record.score, "last_completion_date": done.isoformat() if done else None}


def _shown(email: str, records: Sequence[TrainingRecord]) -> list[str]:
    if not records:
        return [f"{printable(email)}: no training activity in the ledger (statistics start "
                "with the first Cards webhook received for this learner)"]
    return record_table(email, records)


def record_table(who: str, records: Sequence[TrainingRecord]) -> list[str]:
    """Return ``records`` as the employee file shows them: a line per training.

    Every cell is escaped for a terminal (:func:`~lucca_cards._untrusted.printable`).
    """
    lines = [f"{printable(who)}: {len(records)} training(s), as on the employee file", "",
             " ".join(f"{name:<{width}}" for name, width in _COLUMNS) + "LINK"]
    for record in records:
        done = record.last_completion_date
        cells = (record.title, _text(record.progress), _text(record.score),
                 done.isoformat() if done else "")
        lines.append(" ".join(f"{cut(printable(cell), width):<{width}}"
                              for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
                     + printable(record.link or ""))
    return lines


def _text(value: float | str | None) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else value
