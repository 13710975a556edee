"""``lucca-cards webhooks serve``: receive Cards webhooks into the training ledger.

The receiver (werkzeug, threaded) serves until ``SIGTERM`` or ``SIGINT``, then closes its
socket and the ledger and exits 0. The first line on standard error says where it
listens; then one log line per event (``lucca_cards.receiver``, INFO).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import logging
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from .._secret import without_password
from ..config import Settings
from ..errors import ConfigurationError
from ._args import add_config_option, add_group, bounded
from ._output import CONFIGURATION, OK, guarded
from ._process import logging_to_stderr, stop_on_signals

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from ..receiver import ReceiverApp

PROG = "lucca-cards webhooks serve"
#: A client that stops sending mid-request is dropped after this many seconds.
REQUEST_TIMEOUT = 30.0
#: How long a stop lets the requests under way finish (under Kubernetes' 30 s grace).
DRAIN_SECONDS = 10.0
_NO_SECRET = ("is not set; set CARDS_WEBHOOK_SECRET to the webhook secret shown in Cards (Apps "
              "& Integrations → API & Webhooks), or webhook_secret under [cards] in the "
              "--config file")


#: ``--port``: 0 (a free port) or 1 to 65535.
port_number = bounded(int, 0, 65535, "a port from 1 to 65535, or 0")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lucca-cards webhooks serve``."""
    subcommands = add_group(commands, "webhooks", dest="webhooks_command",
                            metavar="SUBCOMMAND", help="receive Cards webhooks")
    serve_parser = subcommands.add_parser(
        "serve",
        help="receive Cards webhooks into the training ledger until stopped",
        description="Receive Cards webhooks (POST / or /cards), check their signature and "
        "store their events in the training ledger, until SIGTERM or Ctrl-C. Put it behind "
        "an HTTPS reverse proxy; give the secret through CARDS_WEBHOOK_SECRET rather than "
        "--secret, which other users can see in the process list.",
    )
    serve_parser.set_defaults(run=serve)
    serve_parser.add_argument("--port", type=port_number, required=True,
                              help="the port to listen on (0: a free one, printed)")
    serve_parser.add_argument("--host", default="127.0.0.1",
                              help="the address to listen on (127.0.0.1; 0.0.0.0: every "
                              "interface)")
    serve_parser.add_argument("--secret", default=None, metavar="SECRET",
                              help="the webhook secret shown in Cards (default: "
                              "CARDS_WEBHOOK_SECRET or [cards] webhook_secret; prefer those)")
    serve_parser.add_argument("--ledger", "--state", dest="ledger", default=None,
                              metavar="PATH|URL",
                              help="the state database holding the training ledger, as "
                              "--state of the other commands (default: the state_database "
                              "setting, lucca-cards.sqlite)")
    add_config_option(serve_parser)


def serve(args: argparse.Namespace) -> int:
    """Run ``webhooks serve`` until ``SIGINT`` or ``SIGTERM``; return the exit status."""
    return guarded(lambda: _serve(args), sys.stderr,
                   interrupted="The events received so far are in the ledger.")


def _serve(args: argparse.Namespace) -> int:
    from ..receiver import make_app

    overrides = {} if args.ledger is None else {"state_database": args.ledger}
    settings = Settings.load(args.config, **overrides)
    if args.secret is None and settings.cards_webhook_secret is None:
        raise ConfigurationError("cards_webhook_secret", _NO_SECRET)
    stop = stop_on_signals()  # before anything opens: a stop during start-up still counts
    app = make_app(secret=args.secret, settings=settings)  # checks the secret first
    try:
        return _listen_and_wait(app, args, settings, stop)
    finally:
        app.close()


def _listen_and_wait(app: ReceiverApp, args: argparse.Namespace, settings: Settings,
                     stop: threading.Event) -> int:
    try:
        server = _make_server(app, args.host, args.port)
    except OSError as exc:  # taken, not allowed, or a host that is not an address here
        print(_port_message(exc, args.host, args.port), file=sys.stderr)
        return CONFIGURATION
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"receiver:{server.port}", daemon=True)
    thread.start()
    # The requests under way when the server stops still log their line: the logging
    # ends after stop_serving.
    with logging_to_stderr("lucca_cards.receiver", logging.INFO, enabled=not args.debug,
                           form="%(asctime)s %(levelname)s %(message)s"):
        try:
            url = f"http://{_url_host(args.host)}:{server.port}"
            print(f"{PROG}: listening on {url}: Cards events at {url}/ and {url}/cards "
                  f"(ledger: {without_password(settings.state_database)}); SIGTERM or "
                  "Ctrl-C stops.", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            stop_serving(server, thread)
    print(f"{PROG}: stopped.", file=sys.stderr, flush=True)
    return OK


def stop_serving(server: BaseWSGIServer, thread: threading.Thread,
                 grace: float | None = None) -> None:
    """Stop accepting requests; let those under way finish for ``grace`` seconds, then cut.

    An event being stored is answered before the ledger closes. A client still sending
    after the grace (one byte every few seconds keeps a socket timeout from firing) is
    cut off: a service manager's own grace (Kubernetes gives 30 s) must not run out
    first. A cut request stored nothing, or stored an event Cards sends again and the
    ledger then ignores.
    """
    server.shutdown()
    drain = getattr(server, "drain", None)
    if drain is not None:
        cut = drain(DRAIN_SECONDS if grace is None else grace)
        if cut:
            print(f"{PROG}: cut {cut} request(s) still under way after the grace",
                  file=sys.stderr, flush=True)
    server.server_close()
    thread.join(timeout=5)


def _make_server(app: ReceiverApp, host: str, port: int) -> BaseWSGIServer:
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    from .._serving import listen

    class _Handler(WSGIRequestHandler):
        # A client that stops sending mid-body would otherwise hold a thread forever.
        timeout = REQUEST_TIMEOUT

        def log(self, type: str, message: str, *args: Any) -> None:
            return None  # the receiver logs one line per event instead of an access log

    class _Server(_Draining, ThreadedWSGIServer):
        pass

    # listen() reports a busy port as an error; werkzeug's own bind would exit the process.
    with listen(host, port) as sock:
        return _Server(host, port, app, handler=_Handler, fd=sock.fileno())


class _Draining:
    """A threading server that knows its requests under way, to wait for them, then cut.

    socketserver's own ``block_on_close`` waits for every request thread without a limit.
    """

    daemon_threads = True
    block_on_close = False

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_one, args=(request, client_address),
                                  daemon=True, name="receiver-request")
        with self._lock:
            self._under_way[thread] = request
        thread.start()

    def _serve_one(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)  # type: ignore[attr-defined]
        finally:
            with self._lock:
                self._under_way.pop(threading.current_thread(), None)

    @functools.cached_property
    def _lock(self) -> threading.Lock:
        return threading.Lock()

    @functools.cached_property
    def _under_way(self) -> dict[threading.Thread, socket.socket]:
        return {}

    def drain(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for the requests under way; cut the rest.

        Returns how many were cut.
        """
        deadline = time.monotonic() + grace
        with self._lock:
            waiting = list(self._under_way)
        for thread in waiting:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = list(self._under_way.items())
        for _, request in left:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        for thread, _ in left:
            thread.join(timeout=5)
        return len(left)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _port_message(error: OSError, host: str, port: int) -> str:
    """Say which address could not be listened on, and what to do."""
    which = f"port {port}" if port else "a free port"
    holder = "stop the program that holds it, " if error.errno == errno.EADDRINUSE else ""
    return (f"{PROG}: cannot listen on {which} of {host}: {error.strerror or error}; "
            f"{holder}choose another --port or --host, or use --port 0 to pick a free port")
