"""The command line's reference, generated from its parser at each build.

Every command and subcommand of ``lucca-cards``, with its ``--help`` as the parser prints
it: the page cannot drift from the options the commands take.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

from lucca_cards.cli import build_parser

#: The width the help is wrapped at (a terminal's, not the reader's).
WIDTH = "88"


def commands(parser: argparse.ArgumentParser, name: str = "lucca-cards"
             ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Yield ``(full name, parser)`` for the parser and every subcommand below it."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from commands(child, f"{name} {sub}")


def reference() -> str:
    """Return the reST of every command's help, one section each."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parts = []
        for name, parser in commands(build_parser()):
            help_text = parser.format_help().rstrip()
            parts += [f"``{name}``", "~" * (len(name) + 4), "", ".. code-block:: text", "",
                      *(f"   {line}".rstrip() for line in help_text.splitlines()), ""]
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(parts) + "\n"

