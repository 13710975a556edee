"""``lucca-cards sandbox serve``: its parser, port and fault options, and the serving loop.

The sandbox is imported only when a command needs it, so the other commands start fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ._args import add_company_options, add_group, bounded, count
from ._process import stop_on_signals
from ._sandbox_config import check_config_path, env_lines, overriding, state_path, write_config

if TYPE_CHECKING:
    from ..sandbox import Sandbox
    from ..sandbox._faults import Faults

PROG = "lucca-cards sandbox serve"
#: The APIs each fake serves, and so the ones ``--lucca-faults`` / ``--cards-faults`` set.
LUCCA_APIS = ("token", "lucca", "legacy")
CARDS_APIS = ("cards",)
_KINDS_HELP = "rate_limited (or 429), server_error (500), unavailable (503), timeout, reset"


#: ``--port``: 0 (free ports) or 1 to 65534 (Cards takes the next one).
port_number = bounded(int, 0, 65534, "a port from 1 to 65534 (Cards listens on the next "
                       "one), or 0")
#: A fault rate: a number from 0 to 1.
fraction = bounded(float, 0.0, 1.0, "a fraction from 0 to 1 (0.2 = 20 %)")
#: A delay: a number of seconds, 0 or more.
seconds = bounded(float, 0.0, 1e9, "a number of seconds >= 0")


def fault_kind_list(text: str) -> tuple[str, ...]:
    """Parse ``--fault-kinds``: comma-separated kinds or their status aliases."""
    from ..sandbox._faults import fault_kinds

    try:
        kinds = fault_kinds(name for name in text.split(",") if name.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not kinds:
        raise argparse.ArgumentTypeError(f"name at least one fault kind: {_KINDS_HELP}")
    return kinds


def date(text: str) -> dt.date:
    """Parse an ISO date (``2026-03-02``)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-02") from None


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lucca-cards sandbox serve``."""
    sandbox_commands = add_group(commands, "sandbox", dest="sandbox_command",
                                 metavar="SUBCOMMAND", help="fake Lucca and Cards on loopback")
    serve_parser = sandbox_commands.add_parser(
        "serve",
        help="serve the sandbox until interrupted",
        description="Serve a fake Lucca (on PORT) and a fake Cards (on PORT+1). The first line "
        "of standard output is one JSON object with the URLs and credentials.",
    )
    serve_parser.set_defaults(run=serve)
    serve_parser.add_argument("--port", type=port_number, default=0,
                              help="Lucca port; Cards takes the next one (0: free ones)")
    add_company_options(serve_parser)
    serve_parser.add_argument("--lucca-rate-limit", type=count, default=50,
                              help="Lucca requests per minute, both APIs (50; 0 = unlimited)")
    serve_parser.add_argument("--cards-rate-limit", type=count, default=60,
                              help="Cards requests per minute (60; 0 = unlimited)")
    serve_parser.add_argument("--webhook-url", default=None,
                              help="where the fake Cards POSTs its signed webhooks")
    serve_parser.add_argument("--lucca-webhook-url", default=None, metavar="URL",
                              help="where the fake Lucca POSTs its signed events (https://, "
                              "or http:// on loopback): declared as a webhook endpoint at "
                              "start, its secret is lucca_webhook_secret on the JSON line; "
                              "the receiver may start later")
    serve_parser.add_argument("--no-stats-field", dest="stats_field", action="store_false",
                              help="generate the Lucca tenant without its e_formation training "
                              "field, as before the Lucca setup creates it (to see the SDK's "
                              "error)")
    serve_parser.add_argument("--write-config", type=Path, default=None, metavar="FILE",
                              help="write a TOML file pointing every lucca-cards command at "
                              "this sandbox (use it with --config FILE); it holds the "
                              "sandbox's credentials, readable by you only")
    serve_parser.add_argument("--print-env", action="store_true",
                              help="print shell export lines (LUCCA_*, CARDS_*) for every "
                              "setting, instead of the JSON line")
    add_serve_options(serve_parser)


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """Add ``--today`` and the fault options to the ``serve`` parser."""
    serve.add_argument("--today", type=date, default=None, metavar="YYYY-MM-DD",
                       help="the generated company's today (default: the real date); with "
                       "--seed, the same company on any day")
    faults = serve.add_argument_group(
        "faults", "Fail a fraction of the requests, deterministically from --fault-seed; "
        "POST /_sandbox/faults on either fake changes them while it runs.")
    faults.add_argument("--faults", type=fraction, default=None, metavar="RATE",
                        help="fraction of every API's requests (token, Lucca, legacy, Cards) "
                        "that fail, spread evenly over --fault-kinds (0.2 = 20 %%)")
    faults.add_argument("--lucca-faults", type=fraction, default=None, metavar="RATE",
                        help="the rate of the token endpoint, Lucca API and legacy API "
                        "(overrides --faults)")
    faults.add_argument("--cards-faults", type=fraction, default=None, metavar="RATE",
                        help="the rate of the Cards API (overrides --faults)")
    faults.add_argument("--fault-kinds", type=fault_kind_list, default=None, metavar="KINDS",
                        help=f"comma-separated, among {_KINDS_HELP} (default: all five)")
    faults.add_argument("--fault-seed", type=int, default=None, metavar="N",
                        help="the same seed fails the same requests (0)")
    faults.add_argument("--fault-delay", type=seconds, default=None, metavar="SECONDS",
                        help="how late a 'timeout' answers (35, longer than the SDK's 30 s "
                        "read timeout; the request is processed all the same)")


def serve_faults(args: argparse.Namespace) -> dict[str, Faults]:
    """Return the faults per API that the options ask for (empty: none).

    Raises:
        ValueError: a fault option is given without any rate.
    """
    from ..sandbox._faults import FAULT_KINDS, Faults

    lucca = args.faults if args.lucca_faults is None else args.lucca_faults
    cards = args.faults if args.cards_faults is None else args.cards_faults
    if lucca is None and cards is None:
        given = [flag for flag, value in (("--fault-kinds", args.fault_kinds),
                                          ("--fault-seed", args.fault_seed),
                                          ("--fault-delay", args.fault_delay)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} "
                             "a rate: add --faults RATE "
                             "(or --lucca-faults / --cards-faults)")
        return {}
    faults: dict[str, Faults] = {}
    for apis, rate in ((LUCCA_APIS, lucca), (CARDS_APIS, cards)):
        if rate:
            spread = Faults.spread(rate, args.fault_kinds or FAULT_KINDS,
                                   seed=args.fault_seed or 0, delay=args.fault_delay)
            faults.update(dict.fromkeys(apis, spread))
    return faults


def port_message(error: OSError, port: int) -> str:
    """Say which port could not be listened on, and what to do."""
    taken = getattr(error, "port", None)
    which = ("Cards listens on --port + 1" if port and taken == port + 1
             else "Lucca listens on --port" if port else "a free port was asked for")
    where = f"port {taken}" if taken is not None else f"port {port}"
    return (f"{PROG}: cannot listen on {where} ({which}): {error.strerror or error}; "
            "stop the program that holds it, choose another --port P (Lucca on P, Cards on "
            "P+1), or use --port 0 to pick free ones")


def serve(args: argparse.Namespace) -> int:
    """Run ``sandbox serve`` until ``SIGINT`` or ``SIGTERM``; return the exit status."""
    from ..sandbox import Sandbox

    try:
        faults = serve_faults(args)
        if args.write_config is not None:
            check_config_path(args.write_config)  # before serving: fail fast
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        sandbox = Sandbox(
            seed=args.seed, employees=args.employees, departments=args.departments,
            trainings=args.trainings, today=args.today, port=args.port,
            lucca_rate_limit=args.lucca_rate_limit, cards_rate_limit=args.cards_rate_limit,
            webhook_url=args.webhook_url, lucca_webhook_url=args.lucca_webhook_url,
            faults=faults, stats_field=args.stats_field,
        )
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    with stop_on_signals() as stop:
        try:
            sandbox.start()
        except OSError as exc:
            print(port_message(exc, args.port), file=sys.stderr)
            return 2
        with sandbox:
            if not _announce(sandbox, args):
                return 2
            events = (f"; Lucca's events go to {args.lucca_webhook_url}"
                      if args.lucca_webhook_url else "")
            config = (f"; commands with --config {args.write_config} use it"
                      if args.write_config is not None else "")
            print(f"Serving Lucca at {sandbox.lucca_url} and Cards at {sandbox.cards_url}"
                  f"{_faults_note(faults)}{events}{config}; Ctrl-C stops.", file=sys.stderr,
                  flush=True)
            while not stop.wait(0.5):
                pass
    return 0


def _announce(sandbox: Sandbox, args: argparse.Namespace) -> bool:
    """Write the config file if asked, then the first line(s) of standard output.

    ``False`` when the file could not be written (said on standard error).
    """
    # Statistics on: the sandbox has the training field (but with --no-stats-field, which
    # is there to show the SDK's error), so every command finds what it needs.
    values = {**sandbox.setting_values(), "stats_enabled": True,
              "state_database": state_path(args.write_config)}
    shadowing = overriding(os.environ)
    if shadowing:
        print(f"{PROG}: warning: {', '.join(shadowing)} set in this environment win over a "
              "--config file: unset them before pointing commands at the sandbox, or a "
              "command may reach another tenant", file=sys.stderr)
    if args.write_config is not None:
        try:
            write_config(args.write_config, values)
        except ValueError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return False
    text = env_lines(values) if args.print_env else json.dumps(sandbox.connection_info())
    print(text.rstrip("\n"), flush=True)
    return True


def _faults_note(faults: dict[str, Faults]) -> str:
    if not faults:
        return ""
    rates = ", ".join(f"{api} {round(f.total * 100, 2):g} %" for api, f in faults.items())
    return f", with faults ({rates})"
