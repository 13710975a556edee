"""Argument types and option groups shared by several ``lucca-cards`` commands."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any


def bounded(parse: type[int] | type[float], low: float, high: float, what: str
             ) -> Callable[[str], Any]:
    """Return an argparse type: ``parse`` the text, then keep it from ``low`` to ``high``."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    return convert


def count(text: str) -> int:
    """Parse a non-negative integer argument."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def positive(text: str) -> int:
    """Parse a positive integer argument."""
    value = count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_company_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of the sandbox's generated company (seed and sizes)."""
    parser.add_argument("--seed", type=count, default=0, help="seed of the generated company")
    parser.add_argument("--employees", type=positive, default=300, help="employees (300)")
    parser.add_argument("--departments", type=positive, default=24, help="departments (24)")
    parser.add_argument("--trainings", type=positive, default=8, help="Cards trainings (8)")


def add_group(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *,
              dest: str, metavar: str, **parser: Any
              ) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add the command group ``name``; return where its subcommands go.

    The group alone runs nothing (``run=None``): ``lucca-cards`` shows its help.
    """
    group = commands.add_parser(name, **parser)
    group.set_defaults(run=None)
    return group.add_subparsers(dest=dest, metavar=metavar)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config PATH``: the TOML file, under the environment."""
    parser.add_argument("--config", metavar="PATH",
                        help="a lucca-cards TOML file; LUCCA_* and CARDS_* environment "
                        "variables win over it (without it: the environment only)")


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-writes N`` and ``--max-minutes M``: the statistics' write budget."""
    parser.add_argument("--max-writes", type=count, default=None, metavar="N",
                        help="write at most N employee files; the rest waits for the next run")
    parser.add_argument("--max-minutes", type=count, default=None, metavar="M",
                        help="stop writing employee files after M minutes; the rest waits "
                        "for the next run")


def budget(args: argparse.Namespace) -> dt.timedelta | None:
    """Return ``--max-minutes`` as a duration (``None``: no limit)."""
    return None if args.max_minutes is None else dt.timedelta(minutes=args.max_minutes)
