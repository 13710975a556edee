"""The ``lucca-cards`` command line: the demo, the imports (``_cli_sync``) and the sandbox."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import _cli_sync
from ._version import __version__

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
    serve.add_argument("--port", type=_count, default=0, help="Lucca port (0: a free one)")
    _add_company_options(serve)
    serve.add_argument("--lucca-rate-limit", type=_count, default=50,
                       help="Lucca requests per minute, both APIs (50; 0 = unlimited)")
    serve.add_argument("--cards-rate-limit", type=_count, default=60,
                       help="Cards requests per minute (60; 0 = unlimited)")
    serve.add_argument("--webhook-url", default=None,
                       help="where the fake Cards POSTs its signed webhooks")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox

    sandbox = Sandbox(
        seed=args.seed, employees=args.employees, departments=args.departments,
        trainings=args.trainings, port=args.port, lucca_rate_limit=args.lucca_rate_limit,
        cards_rate_limit=args.cards_rate_limit, webhook_url=args.webhook_url,
    )
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with sandbox:
        print(json.dumps(sandbox.connection_info()), flush=True)
        print(f"Serving Lucca at {sandbox.lucca_url} and Cards at {sandbox.cards_url}; "
              "Ctrl-C stops.", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lucca-cards``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(seed=args.seed, employees=args.employees,
                        departments=args.departments, trainings=args.trainings)
    if args.command == "sandbox" and args.sandbox_command == "serve":
        return _serve(args)
    if args.command in _cli_sync.TARGETS and args.action is not None:
        return _cli_sync.run(args)
    if args.command in _GROUPS:
        parser.parse_args([args.command, "--help"])
    parser.print_help()
    return 0
