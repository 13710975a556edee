"""Serve a WSGI application on a port, in a background thread, quietly.

Shared by the sandbox's fakes, the webhook receiver's ``lucca-cards webhooks serve`` and the
demo: binding reports a taken port as :class:`PortUnavailableError` (werkzeug's own binding
exits the process), and the access log stays off standard error. It holds no client code,
so the sandbox may use it and still be built from the API reference alone.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log on standard error."""

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


class PortUnavailableError(OSError):
    """The port cannot be listened on (taken by another program, or not allowed).

    An :class:`OSError` with the ``errno`` of the failed ``bind``, the ``host`` and the
    ``port``; its message names them.
    """

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.host, self.port = host, port

    @property
    def in_use(self) -> bool:
        """Whether another program holds the port."""
        return self.errno == errno.EADDRINUSE

    def __str__(self) -> str:
        return f"cannot listen on {self.host}:{self.port}: {self.strerror}"


def listen(host: str, port: int) -> socket.socket:
    """Return a socket listening on ``host:port`` (``0``: a free port).

    Raises:
        PortUnavailableError: the port is taken or not allowed (never a ``SystemExit``, which
            werkzeug's own binding raises after printing to standard error).
    """
    wanted = socket.AF_INET6 if ":" in host else socket.AF_INET  # as werkzeug chooses
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, wanted, socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # as werkzeug does: a port in TIME_WAIT can be reused
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        raise PortUnavailableError(host, port, exc) from None
    return sock


class ServedApp:
    """A WSGI app listening on ``host:port`` (``port`` 0 = a free one) until :meth:`close`.

    >>> from werkzeug.wrappers import Response
    >>> with ServedApp(Response("hi")) as served:
    ...     served.url.startswith("http://127.0.0.1:")
    True

    Raises:
        PortUnavailableError: ``port`` is taken or not allowed.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        with listen(host, port) as sock:  # werkzeug serves a duplicate of it
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=_QuietHandler,
                fd=sock.fileno(),
            )
            self.host, self.port = host, sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        stop = getattr(self.app, "stop", None)
        if callable(stop):
            stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
