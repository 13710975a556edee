"""The ``lucca-cards`` command line (subcommands arrive with the sync and sandbox issues)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._version import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``lucca-cards``."""
    parser = argparse.ArgumentParser(
        prog="lucca-cards",
        description="Connect Lucca (HR) with Cards (microlearning): import users and "
        "departments, publish training statistics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lucca-cards``; return the exit status."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
