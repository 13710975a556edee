"""``lucca-cards doctor``: a line per check of the configuration, with the fix; 1 if any fails."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from .._doctor import Check, CheckStatus, diagnose
from .._untrusted import printable
from ..config import Settings
from ._args import add_config_option
from ._output import GREEN, RED, YELLOW, colours, guarded, paint, plural, print_json

#: The mark and the terminal colour of each status.
_MARKS = {CheckStatus.PASSED: ("✓", GREEN), CheckStatus.FAILED: ("✗", RED),
          CheckStatus.SKIPPED: ("-", YELLOW)}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lucca-cards doctor``."""
    parser = commands.add_parser(
        "doctor", help="check a configuration against the Lucca and Cards tenants",
        description="Check the settings against the tenants, reading only: the Lucca token "
        "and its scopes, the reads of employees and departments, the API key's right to "
        "read users with their extended data, the training field and its sub-fields, the "
        "Cards key and tenant, the webhook secrets. One line per check, with the fix; "
        "exit status 1 if any fails, 2 if the configuration cannot be read.")
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, *, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run ``lucca-cards doctor``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        checks = diagnose(Settings.load(args.config))
        failed = any(check.status is CheckStatus.FAILED for check in checks)
        if args.json:
            print_json({"ok": not failed, "checks": [c.to_dict() for c in checks]}, out)
        else:
            print("\n".join(lines(checks, coloured=colours(out))), file=out)
        return 1 if failed else 0

    return guarded(command, err, interrupted="Nothing was written.")


def lines(checks: list[Check], *, coloured: bool = False) -> list[str]:
    """Return the summary, then one line per check (and its fix, when it did not pass)."""
    counts = {status: sum(1 for c in checks if c.status is status) for status in CheckStatus}
    told = ", ".join(f"{counts[s]} {s.value}" for s in CheckStatus if counts[s])
    result = [f"lucca-cards doctor: {plural(len(checks), 'check')}: {told}"]
    for check in checks:
        mark, colour = _MARKS[check.status]
        mark = paint(mark, colour if coloured else None)
        skipped = "skipped: " if check.status is CheckStatus.SKIPPED else ""
        result.append(f"  {mark} {check.name}: {skipped}{printable(check.detail)}")
        if check.fix and check.status is not CheckStatus.PASSED:
            result.append(f"      fix: {printable(check.fix)}")
    return result
