"""The ``lucca-cards`` command line (sync and sandbox commands arrive with their issues)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._version import __version__

_NO_DEMO_YET = (
    "No demo yet: the demo runs the integration against the bundled sandbox, a stateful\n"
    "fake of Lucca and Cards, which is the next milestone. Meanwhile the clients are\n"
    "ready: see README.md and `make docs`."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``lucca-cards``."""
    parser = argparse.ArgumentParser(
        prog="lucca-cards",
        description="Connect Lucca (HR) with Cards (microlearning): import users and "
        "departments, publish training statistics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run the main job on the bundled sandbox")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lucca-cards``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        print(_NO_DEMO_YET)
        return 0
    parser.print_help()
    return 0
