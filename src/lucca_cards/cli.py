"""The ``lucca-cards`` command line: the demo, the imports (``_cli_sync``) and the sandbox.

Whatever happens, the command ends with one readable line, never a traceback (unless
``--debug`` asks for it): output piped into ``head`` ends quietly, as Unix tools do, and
Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from . import _cli_sandbox, _cli_sync
from ._untrusted import printable
from ._version import __version__

#: The exit status of a command whose reader went away (128 + SIGPIPE, as the shell says).
BROKEN_PIPE = 141

#: The command groups that need a subcommand: alone, they show their help.
_GROUPS = ("users", "departments", "sandbox")


def _count(text: str) -> int:
    """Parse a non-negative integer argument."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _positive(text: str) -> int:
    """Parse a positive integer argument."""
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_company_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=_count, default=0, help="seed of the generated company")
    parser.add_argument("--employees", type=_positive, default=300, help="employees (300)")
    parser.add_argument("--departments", type=_positive, default=24, help="departments (24)")
    parser.add_argument("--trainings", type=_positive, default=8, help="Cards trainings (8)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``lucca-cards``."""
    parser = argparse.ArgumentParser(
        prog="lucca-cards",
        description="Connect Lucca (HR) with Cards (microlearning): import users and "
        "departments, publish training statistics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="log every request and show the traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="tour the integration on the bundled sandbox")
    _add_company_options(demo)
    _cli_sync.add_commands(commands)
    sandbox = commands.add_parser("sandbox", help="fake Lucca and Cards on loopback")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the sandbox until interrupted",
        description="Serve a fake Lucca (on PORT) and a fake Cards (on PORT+1). The first line "
        "of standard output is one JSON object with the URLs and credentials.",
    )
    serve.add_argument("--port", type=_cli_sandbox.port_number, default=0,
                       help="Lucca port; Cards takes the next one (0: free ones)")
    _add_company_options(serve)
    serve.add_argument("--lucca-rate-limit", type=_count, default=50,
                       help="Lucca requests per minute, both APIs (50; 0 = unlimited)")
    serve.add_argument("--cards-rate-limit", type=_count, default=60,
                       help="Cards requests per minute (60; 0 = unlimited)")
    serve.add_argument("--webhook-url", default=None,
                       help="where the fake Cards POSTs its signed webhooks")
    _cli_sandbox.add_serve_options(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lucca-cards``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _debug_log(args.debug):
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
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(seed=args.seed, employees=args.employees,
                        departments=args.departments, trainings=args.trainings)
    if args.command == "sandbox" and args.sandbox_command == "serve":
        return _cli_sandbox.serve(args)
    if args.command in _cli_sync.TARGETS and args.action is not None:
        return _cli_sync.run(args)
    if args.command in _GROUPS:
        parser.parse_args([args.command, "--help"])
    parser.print_help()
    return 0


@contextlib.contextmanager
def _debug_log(enabled: bool) -> Iterator[None]:
    """With ``--debug``, send the SDK's log (a line per request, retries) to standard error."""
    if not enabled:
        yield
        return
    logger = logging.getLogger("lucca_cards")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's StringIO): nothing to do
        pass
