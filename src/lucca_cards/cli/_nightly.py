"""``lucca-cards sync``: the nightly job: life cycle, departments, users, statistics."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .._untrusted import escape_json
from ..config import Settings
from ..sync.nightly import PARTS, NightlyReport, nightly_sync
from ._args import add_budget_options, add_config_option, budget
from ._output import ProgressBar, guarded, readable
from ._state import add_state_option, open_state


def _parts(text: str) -> tuple[str, ...]:
    """Parse ``--only``: comma-separated parts among :data:`PARTS`."""
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [part for part in chosen if part not in PARTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r}: name some of {', '.join(PARTS)}, comma-separated")
    return chosen


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lucca-cards sync``."""
    parser = commands.add_parser(
        "sync", help="the nightly job: life cycle, departments, users, then statistics",
        description="Apply the movers, email changes and leavers, keep the imported "
        "departments and the users up to date in Cards, then publish the training "
        "statistics onto the Lucca employee files, from the configuration. Exit status: 0 "
        "when nothing failed, 1 when something failed or was held by a safety stop (the "
        "other parts still ran), 2 for a configuration error.")
    parser.add_argument("--only", type=_parts, default=PARTS, metavar="PARTS",
                        help=f"run only these parts, among {','.join(PARTS)} (all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what every part would do; write nothing")
    add_budget_options(parser)
    parser.add_argument("--force", action="store_true",
                        help="go past the safety stops: offboard more leavers than the "
                        "threshold, remove more statistics than the allowed share")
    add_config_option(parser)
    add_state_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=lambda args: run(args))


def run(args: argparse.Namespace, *, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run ``lucca-cards sync``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        settings = Settings.load(args.config)
        bars: dict[str, ProgressBar] = {}

        def progress(part: str, done: int, total: int) -> None:
            if part not in bars:
                for bar in bars.values():
                    bar.close()
                bars[part] = ProgressBar(part, " items", enabled=not args.json, file=err)
            bars[part](done, total)

        try:
            with open_state(args, settings, create=not args.dry_run) as state:
                report = nightly_sync(settings, only=args.only, dry_run=args.dry_run,
                                      database=state, progress=progress,
                                      max_writes=args.max_writes, deadline=budget(args),
                                      force=args.force)
        finally:
            for bar in bars.values():
                bar.close()
        _print(report, args.json, out)
        return 0 if report.ok else 1

    return guarded(command, err, interrupted="What was written stays written; the next run "
                   "finishes the work (every part writes only what still differs).")


def _print(report: NightlyReport, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(escape_json(report.to_json(indent=2)), file=out)
        return
    lines: list[Any] = [str(report)]
    for part in report.reports:
        lines += ["", *readable(part)]
    print("\n".join(lines), file=out)
