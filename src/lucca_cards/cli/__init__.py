"""The ``lucca-cards`` command line; one module per command group.

Whatever happens, the command ends with one readable line, never a traceback (unless
``--debug`` asks for it): output piped into ``head`` ends quietly, as Unix tools do, and
Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .._untrusted import printable
from .._version import __version__
from . import _doctor, _events, _imports, _lucca_webhooks, _nightly, _sandbox, _stats, _webhooks
from ._args import add_company_options
from ._process import logging_to_stderr

#: The modules whose ``add_commands`` add their command groups, in the order of the help.
_COMMANDS = (_imports, _stats, _nightly, _events, _webhooks, _lucca_webhooks, _sandbox,
             _doctor)

#: The exit status of a command whose reader went away (128 + SIGPIPE, as the shell says).
BROKEN_PIPE = 141



def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``lucca-cards``.

    Each command module adds its commands and sets ``run`` on each parser: the function
    that runs it (``None`` for a group, which then shows its help).
    """
    parser = argparse.ArgumentParser(
        prog="lucca-cards",
        description="Connect Lucca (HR) with Cards (microlearning): import users and "
        "departments, publish training statistics.",
    )
    parser.set_defaults(run=None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="log every request and show the traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="tour the integration on the bundled sandbox")
    add_company_options(demo)
    demo.set_defaults(run=_run_demo)
    for module in _COMMANDS:
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lucca-cards``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with logging_to_stderr("lucca_cards", logging.DEBUG, enabled=args.debug):
            return _dispatch(parser, args)
    except KeyboardInterrupt:
        print("lucca-cards: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (head, less) is gone: stop quietly, and keep Python from complaining
        # again when it flushes standard output on exit.
        _quiet_stdout()
        return BROKEN_PIPE
    except Exception as error:
        if args.debug:
            raise
        print(f"lucca-cards: unexpected error ({type(error).__name__}: "
              f"{printable(str(error))[:300]}). Run the same command with --debug "
              "(lucca-cards --debug …) for the details, and report it.", file=sys.stderr)
        return 1


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.run is not None:
        return int(args.run(args))
    if args.command is not None:  # a group without its subcommand: its help
        parser.parse_args([args.command, "--help"])
    parser.print_help()
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    # Imported here: the demo pulls in the sandbox, which the other commands never need.
    from . import _demo as demo

    return demo.run_demo(seed=args.seed, employees=args.employees,
                         departments=args.departments, trainings=args.trainings)


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's StringIO): nothing to do
        pass
