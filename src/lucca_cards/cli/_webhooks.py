"""``lucca-cards webhooks serve``: receive Cards and Lucca webhooks into the state database.

The receiver (werkzeug, threaded) serves until ``SIGTERM`` or ``SIGINT``, then closes its
socket and the database and exits 0. Cards events go to the training ledger, Lucca events
to the inbox, from which a worker thread applies them (unless ``--no-process``). The
first line on standard error says where it listens and what it does with Lucca's events;
then one log line per event (``lucca_cards.receiver``, INFO).
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
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._secret import without_password
from ..config import Settings
from ..errors import ConfigurationError
from ._args import add_config_option, add_group, bounded
from ._output import CONFIGURATION, OK, guarded
from ._process import logging_to_stderr, stop_on_signals

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from ..receiver import InboxWorker, ReceiverApp
    from ..state import Database
    from ..sync.events import EventProcessor

PROG = "lucca-cards webhooks serve"
#: A client that stops sending mid-request is dropped after this many seconds.
REQUEST_TIMEOUT = 30.0
#: How long a stop lets the requests under way (and the worker's round) finish (under
#: Kubernetes' 30 s grace).
DRAIN_SECONDS = 10.0
_NO_SECRET = (
    "is not set, nor is lucca_webhook_secret: set at least one. To receive Cards events, set "
    "CARDS_WEBHOOK_SECRET to the webhook secret shown in Cards (Apps & Integrations → API & "
    "Webhooks), or webhook_secret under [cards] in the --config file; to receive Lucca "
    "events, set LUCCA_WEBHOOK_SECRET to the secret lucca-cards lucca-webhooks register "
    "printed, or webhook_secret under [lucca]")


#: ``--port``: 0 (a free port) or 1 to 65535.
port_number = bounded(int, 0, 65535, "a port from 1 to 65535, or 0")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lucca-cards webhooks serve``."""
    subcommands = add_group(commands, "webhooks", dest="webhooks_command",
                            metavar="SUBCOMMAND", help="receive Cards and Lucca webhooks")
    serve_parser = subcommands.add_parser(
        "serve",
        help="receive Cards and Lucca webhooks into the state database until stopped",
        description="Receive Cards webhooks (POST / or /cards) into the training ledger "
        "and Lucca webhooks (/lucca) into the events inbox, after checking their "
        "signature, until SIGTERM or Ctrl-C; a worker thread applies the Lucca events "
        "(hires, moves, email changes, leavers) unless --no-process. Each kind is received "
        "when its secret is configured. Put it behind an HTTPS reverse proxy; give the "
        "secrets through CARDS_WEBHOOK_SECRET and LUCCA_WEBHOOK_SECRET rather than "
        "--secret and --lucca-secret, which other users can see in the process list.",
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
    serve_parser.add_argument("--lucca-secret", default=None, metavar="SECRET",
                              help="the Lucca webhook endpoint's secret (default: "
                              "LUCCA_WEBHOOK_SECRET or [lucca] webhook_secret; prefer those)")
    serve_parser.add_argument("--no-process", dest="process", action="store_false",
                              help="only store the Lucca events; apply them with lucca-cards "
                              "events process (from cron, say)")
    serve_parser.add_argument("--ledger", "--state", dest="ledger", default=None,
                              metavar="PATH|URL",
                              help="the state database (training ledger, events inbox), as "
                              "--state of the other commands (default: the state_database "
                              "setting, lucca-cards.sqlite)")
    add_config_option(serve_parser)


def serve(args: argparse.Namespace) -> int:
    """Run ``webhooks serve`` until ``SIGINT`` or ``SIGTERM``; return the exit status."""
    return guarded(lambda: _serve(args), sys.stderr,
                   interrupted="The events received so far are in the state database.")


def _serve(args: argparse.Namespace) -> int:
    settings = serve_settings(args)
    # Before anything opens: a stop during start-up still counts.
    with stop_on_signals() as stop, receiving(settings, process=args.process) as (app, worker):
        return _listen_and_wait(app, worker, args, settings, stop)


def serve_settings(args: argparse.Namespace) -> Settings:
    """Return the settings, the options given on the command line winning.

    Raises:
        ConfigurationError: neither webhook secret is set (the error names both), or a
            setting (or option) cannot work.
    """
    given = {"state_database": args.ledger, "cards_webhook_secret": args.secret,
             "lucca_webhook_secret": args.lucca_secret}
    # None would put a setting back to its default, over the file and the environment.
    settings = Settings.load(args.config, **{k: v for k, v in given.items() if v is not None})
    if settings.cards_webhook_secret is None and settings.lucca_webhook_secret is None:
        raise ConfigurationError("cards_webhook_secret", _NO_SECRET)
    return settings


@contextlib.contextmanager
def receiving(settings: Settings, *, process: bool = True,
              ) -> Iterator[tuple[ReceiverApp, InboxWorker | None]]:
    """Open the state database and its stores, build the app and the worker (not started).

    The stores share one database. There is a worker when a Lucca secret is set and
    ``process`` is true; the caller starts it once it listens, and stops it. When the
    block ends, the clients and the database close, unless the worker is still applying
    events (then the process is about to end: closing them under it would fail its work).

    Raises:
        ConfigurationError: the database cannot be opened, or a setting the event
            processor needs (the Lucca and Cards clients') is missing.
    """
    from ..receiver import InboxWorker, make_app
    from ..state import Database, LuccaInbox, TrainingLedger

    closing = contextlib.ExitStack()
    worker = None
    try:
        database = closing.enter_context(Database(settings.state_database))
        ledger = None if settings.cards_webhook_secret is None else TrainingLedger(database)
        inbox = None if settings.lucca_webhook_secret is None else LuccaInbox(database)
        if inbox is not None and process:
            worker = InboxWorker(_processor(settings, database, closing).process_due)
        app = make_app(ledger, inbox=inbox, settings=settings,
                       on_lucca_event=None if worker is None else worker.wake)
        yield app, worker
    finally:
        if worker is not None and not worker.stop(0):
            print(f"{PROG}: the worker was still applying events; the database and the "
                  "clients are left to the end of the process", file=sys.stderr, flush=True)
            closing.pop_all()
        closing.close()


def _processor(settings: Settings, database: Database, stack: contextlib.ExitStack[bool | None],
               ) -> EventProcessor:
    """Return the event processor on ``database``, closed with ``stack``."""
    # Imported here: the clients load only when events are processed.
    from ..sync.events import EventProcessor

    try:
        processor = EventProcessor.from_settings(settings, database)
    except ConfigurationError as error:
        raise ConfigurationError(error.setting, (
            f"{error.problem} (applying Lucca events needs the Lucca and Cards settings; "
            "to only store them, serve with --no-process)")) from None
    stack.callback(processor.close)
    return processor


def _listen_and_wait(app: ReceiverApp, worker: InboxWorker | None, args: argparse.Namespace,
                     settings: Settings, stop: threading.Event) -> int:
    try:
        server = _make_server(app, args.host, args.port)
    except OSError as exc:  # taken, not allowed, or a host that is not an address here
        print(_port_message(exc, args.host, args.port), file=sys.stderr)
        return CONFIGURATION
    if worker is not None:  # only once listening: a server that cannot start writes nothing
        worker.start()  # its first round applies what an earlier run left pending
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"receiver:{server.port}", daemon=True)
    thread.start()
    # The requests under way when the server stops still log their line: the logging
    # ends after stop_serving.
    with contextlib.ExitStack() as logs:
        for name in ("lucca_cards.receiver", "lucca_cards.lifecycle"):
            logs.enter_context(logging_to_stderr(
                name, logging.INFO, enabled=not args.debug,
                form="%(asctime)s %(levelname)s %(message)s"))
        try:
            url = f"http://{_url_host(args.host)}:{server.port}"
            print(_first_line(url, app, worker, settings), file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            _stop(server, thread, worker)
    print(f"{PROG}: stopped.", file=sys.stderr, flush=True)
    return OK


def _first_line(url: str, app: ReceiverApp, worker: InboxWorker | None,
                settings: Settings) -> str:
    """Say where each kind of event is received, and what becomes of Lucca's."""
    where = []
    if app.handler is not None:
        where.append(f"Cards events at {url}/ and {url}/cards")
    if app.lucca_handler is not None:
        where.append(f"Lucca events at {url}/lucca")
    said = f"{PROG}: listening on {url}: {' and '.join(where)} (state database: " \
           f"{without_password(settings.state_database)}); "
    if app.lucca_handler is not None:
        said += ("Lucca events applied as they arrive, by a worker thread; "
                 if worker is not None else "Lucca events stored only (--no-process: apply "
                 "them with lucca-cards events process); ")
    return said + "SIGTERM or Ctrl-C stops."


def _stop(server: BaseWSGIServer, thread: threading.Thread,
          worker: InboxWorker | None) -> None:
    """Stop the server and the worker together, within :data:`DRAIN_SECONDS` in all."""
    deadline = time.monotonic() + DRAIN_SECONDS
    if worker is not None:
        worker.stop(timeout=0)  # no new round; the one under way goes on meanwhile
    stop_serving(server, thread, grace=DRAIN_SECONDS)
    if worker is not None and not worker.stop(max(0.0, deadline - time.monotonic())):
        print(f"{PROG}: the worker was still applying events after the grace; what it did "
              "not mark stays in the inbox for the next run", file=sys.stderr, flush=True)


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
