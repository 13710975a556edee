"""What every ``lucca-cards`` command prints the same way: reports, JSON, bars and errors.

Everything printed from Lucca or a server (names, emails, reasons, error messages) goes
through :func:`~lucca_cards._untrusted.printable` (text) or
:func:`~lucca_cards._untrusted.escape_json` (``--json``): a name holding ``ESC`` or
``U+202E`` shows escaped and never acts on the terminal; the JSON stays valid and decodes
to the exact data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm

from .._untrusted import escape_json, printable
from ..errors import ConfigurationError, LuccaCardsError
from ..sync import SyncOutcome, SyncReport

#: Items listed per outcome before "… and N more" (failed and skipped are always all shown).
SHOWN = 10
#: The outcomes listed after a sync, in this order; ``unchanged`` is only counted.
_LISTED = (SyncOutcome.FAILED, SyncOutcome.HELD, SyncOutcome.REPORTED, SyncOutcome.SKIPPED,
           SyncOutcome.CREATED, SyncOutcome.LINKED, SyncOutcome.ADDED_TO_GROUP,
           SyncOutcome.UPDATED, SyncOutcome.OFFBOARDED, SyncOutcome.DEFERRED)
_ALWAYS_ALL = frozenset({SyncOutcome.FAILED, SyncOutcome.SKIPPED, SyncOutcome.HELD,
                         SyncOutcome.REPORTED})
#: The terminal colour of each outcome's word: a failure red, a look needed yellow, a write
#: green (the others plain).
RED, YELLOW, GREEN = "31", "33", "32"
_COLOURS = {SyncOutcome.FAILED: RED, SyncOutcome.HELD: YELLOW, SyncOutcome.REPORTED: YELLOW,
            SyncOutcome.SKIPPED: YELLOW, SyncOutcome.CREATED: GREEN, SyncOutcome.LINKED: GREEN,
            SyncOutcome.ADDED_TO_GROUP: GREEN, SyncOutcome.UPDATED: GREEN,
            SyncOutcome.OFFBOARDED: GREEN}

#: The exit statuses of the sync commands.
OK, FAILED, CONFIGURATION, INTERRUPTED = 0, 1, 2, 130


def guarded(command: Callable[[], int], err: TextIO, *,
            interrupted: str | Callable[[], str]) -> int:
    """Run ``command``; turn the SDK's errors into one line on ``err`` and an exit status.

    A configuration error exits 2, any other SDK error 1, Ctrl-C 130 with ``interrupted``
    (what was done so far, what was kept and how to finish; a function is asked then).
    """
    try:
        return command()
    except ConfigurationError as error:
        print(f"lucca-cards: configuration error: {printable(str(error))}", file=err)
        return CONFIGURATION
    except LuccaCardsError as error:  # its message may quote a server: printable
        print(f"lucca-cards: {printable(str(error))}", file=err)
        return FAILED
    except KeyboardInterrupt:
        said = interrupted() if callable(interrupted) else interrupted
        print(f"lucca-cards: interrupted. {said}", file=err)
        return INTERRUPTED


def readable(report: SyncReport, *, coloured: bool = False) -> list[str]:
    """Return the report as text: the summary, items that need a look, then the notes.

    Failed and skipped items are all listed; the others up to :data:`SHOWN` per outcome;
    unchanged ones are only counted. Names, emails, reasons and notes are escaped for a
    terminal (:func:`~lucca_cards._untrusted.printable`). ``coloured``: each outcome word
    in its colour (red for a failure, yellow for what needs a look, green for a write).
    """
    lines = [str(report)]
    if report.dry_run:
        lines.append("(dry run: nothing was written)")
    for outcome in _LISTED:
        items = report.lines([outcome])
        shown = items if outcome in _ALWAYS_ALL else items[:SHOWN]
        colour = _COLOURS.get(outcome) if coloured else None
        lines += [f"  {paint(line, colour, len(outcome.value))}" for line in shown]
        if len(shown) < len(items):
            more = len(items) - len(shown)
            lines.append(f"  … and {more} more {outcome.value.replace('_', ' ')} "
                         "(--json lists every item)")
    lines += [printable(f"note: {note}") for note in report.notes]
    if report.stopped is not None:
        lines.append(printable(f"stopped: {report.stopped}"))
    if report.failed:
        lines.append(f"{len(report.failed)} failed: run the same command again to retry them "
                     "(nothing is duplicated).")
    return lines


def print_report(report: SyncReport, as_json: bool, out: TextIO) -> None:
    """Print ``report`` as JSON or as :func:`readable` text (coloured on a terminal)."""
    if as_json:
        print(escape_json(report.to_json(indent=2)), file=out)
    else:
        print("\n".join(readable(report, coloured=colours(out))), file=out)


def colours(out: TextIO) -> bool:
    """Whether to colour: a terminal, and ``NO_COLOR`` unset (https://no-color.org)."""
    return _is_terminal(out) and not os.environ.get("NO_COLOR")


def paint(text: str, colour: str | None, length: int | None = None) -> str:
    """Colour the first ``length`` characters of ``text`` (all of it by default)."""
    if colour is None:
        return text
    cut_at = len(text) if length is None else length
    return f"\033[{colour}m{text[:cut_at]}\033[0m{text[cut_at:]}"


def print_json(data: Any, out: TextIO) -> None:
    """Print ``data`` as indented JSON, escaped for a terminal."""
    # ensure_ascii=False keeps accents readable but writes U+202E, DEL and C1 raw.
    print(escape_json(json.dumps(data, ensure_ascii=False, indent=2)), file=out)


#: The bar: how far, how many of what, and the time left (no rate: "1.99s/ employees").
_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}]"


class ProgressBar:
    """A tqdm bar on ``file`` drawn from ``progress(done, total)``, opened on the first call.

    Drawn only on a terminal (and when ``enabled``): a log file or a pipe gets none.
    """

    def __init__(self, description: str, unit: str, *, enabled: bool, file: TextIO) -> None:
        self._description, self._unit = description, unit.strip()
        self._enabled = enabled and _is_terminal(file)
        self._file = file
        self._bar: Any = None
        self.done, self.total = 0, 0  # kept, drawn or not: what an interruption reports

    def so_far(self) -> str:
        """Say how far the work went (``""`` before the first item): for an interruption."""
        if not self.total:
            return ""
        return f"{self.done} of {self.total} {self._unit} were done before the stop. "

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if not self._enabled:
            return
        if self._bar is None:
            self._bar = tqdm(total=total, desc=self._description, unit=self._unit,
                             file=self._file, bar_format=_BAR)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Close the bar, if it was drawn."""
        if self._bar is not None:
            self._bar.close()


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # closed, or no file behind it
        return False


def duration(seconds: float) -> str:
    """Say how long ``seconds`` is, as a person would.

    >>> duration(40), duration(61), duration(420), duration(7800)
    ('about 40 seconds', 'about 1 minute', 'about 7 minutes', 'about 2 h 10 min')
    """
    if seconds < 59.5:
        return f"about {max(1, round(seconds))} second{'' if round(seconds) <= 1 else 's'}"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {plural(minutes, 'minute')}"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def plural(count: int, noun: str) -> str:
    """Return ``"1 employee"``, ``"2 employees"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def cut(text: str, width: int) -> str:
    """Return ``text`` cut to ``width`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def cut_left(text: str, width: int) -> str:
    """Return ``text`` cut to ``width`` characters from the left: its end is what matters.

    >>> cut_left("Siège Paris › Marketing › Web", 12)
    '…eting › Web'
    """
    return text if len(text) <= width else "…" + text[len(text) - width + 1:]
