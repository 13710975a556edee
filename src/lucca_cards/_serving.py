"""Serve a WSGI application on a port, in a background thread, quietly, keeping connections.

Shared by the sandbox's fakes, the webhook receiver's ``lucca-cards webhooks serve`` and the
demo: binding reports a taken port as :class:`PortUnavailableError` (werkzeug's own binding
exits the process), and the access log stays off standard error. It holds no client code,
so the sandbox may use it and still be built from the API reference alone.

Connections are kept alive (HTTP/1.1), which werkzeug's development server never does: a
client's next call reuses its connection instead of paying for a new one. Every answer is
framed so the client knows where it ends: its ``Content-Length``, chunks when it has none,
or closing the connection (an HTTP/1.0 client, a request body the application left unread,
an error half-way through an answer).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import selectors
import socket
import threading
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, cast

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

#: What a write to a client that has gone raises (werkzeug's own list).
_DROPPED = (ConnectionError, socket.timeout)
#: How long the unread rest of a body is drained before closing (as werkzeug does).
_DRAIN_WAIT = 0.01


class _RequestBody(io.RawIOBase):
    """A request's body, never read past its ``Content-Length``; counts what is left.

    The connection carries the next request right after it, so the application must not
    read into it, and the server must know whether the body was read to its end.
    """

    def __init__(self, stream: Any, length: int) -> None:
        super().__init__()
        self._stream, self.left = stream, length

    def readable(self) -> bool:
        """Return ``True``: a body is read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer`` at most what is left of the body; ``0`` at its end."""
        if self.left <= 0:
            return 0
        with memoryview(buffer) as view:
            count = self._stream.readinto(view[: self.left]) or 0
        self.left -= count
        return count


def _wrap_body(environ: dict[str, Any]) -> _RequestBody | None:
    """Bound the body by its ``Content-Length``; ``None`` when the stream's end is unknown."""
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's own reader knows its end
        return None
    text = environ.get("CONTENT_LENGTH") or "0"
    if not text.isdecimal():  # a length werkzeug ignores: the bytes that follow are unknown
        return None
    body = _RequestBody(environ["wsgi.input"], int(text))
    environ["wsgi.input"] = body
    return body


class _Answer:
    """One response on a kept-alive connection: headers at the first write, then framing."""

    def __init__(self, handler: _Handler, environ: dict[str, Any], body: _RequestBody | None):
        self.handler, self.environ, self.body = handler, environ, body
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent = self.chunked = self.bodiless = False
        #: The Content-Length the application declared, and how much of it was sent.
        self.declared: int | None = None
        self.written = 0

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        """Take the status and headers (PEP 3333); they go out with the first write."""
        if exc_info and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        if self.status is not None and not exc_info:
            raise AssertionError("Headers already set")
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        """Send ``data`` (the headers first, once), as a chunk when the answer is chunked."""
        wfile = self.handler.wfile
        if not self.sent:
            self._send_head()
        if self.bodiless:  # whatever the app yields: the client reads no body here
            pass
        elif data and self.chunked:
            wfile.write(b"%x\r\n" % len(data))
            wfile.write(data)
            wfile.write(b"\r\n")
        elif data:
            if self.declared is not None:
                room = self.declared - self.written
                if len(data) > room:  # past its Content-Length: the next answer's bytes
                    data = data[:room]
                    self.handler.close_connection = True
                self.written += len(data)
            wfile.write(data)
        wfile.flush()

    def _send_head(self) -> None:
        handler, status = self.handler, self.status
        if status is None:
            raise AssertionError("write() before start_response")
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        handler.send_response(code, reason)
        names = set()
        for name, value in self.headers:
            handler.send_header(name, value)
            names.add(name.lower())
            if name.lower() == "content-length" and value.strip().isdigit():
                self.declared = int(value)
        self.bodiless = (self.environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200
                         or code in (204, 304))
        if "content-length" not in names and not self.bodiless:
            if handler.request_version >= "HTTP/1.1":
                self.chunked = True
                handler.send_header("Transfer-Encoding", "chunked")
            else:  # an HTTP/1.0 client reads to the end of the connection
                handler.close_connection = True
        if self.body is None or self.body.left:  # the next request's start is unknown
            handler.close_connection = True
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()
        self.sent = True

    def run(self, app: Callable[..., Iterable[bytes]]) -> None:
        """Run ``app`` and send its answer; drain an unread body before a close."""
        answer = app(self.environ, self.start_response)
        try:
            for data in answer:
                self.write(data)
            if not self.sent:
                self.write(b"")
            if self.declared is not None and not self.bodiless and self.written < self.declared:
                self.handler.close_connection = True  # short: only a close tells the client
            if self.chunked:
                self.handler.wfile.write(b"0\r\n\r\n")
        finally:
            if self.body is None or self.body.left:
                self.handler.drain()
            close = getattr(answer, "close", None)
            if callable(close):
                close()


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler, quiet, keeping HTTP/1.1 connections open between requests."""

    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection holds a thread: one silent this long is let go. Long
    # enough that a client never reuses a connection the server is closing meanwhile.
    timeout = 300

    def setup(self) -> None:
        """Register the connection (closing stops it); send small answers without delay."""
        super().setup()
        # Headers and body are separate writes: Nagle would hold the second one back
        # until the client's delayed acknowledgement, some 40 ms on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cast(_Server, self.server).track(self.connection, True)

    def finish(self) -> None:
        """Unregister the connection, then close it."""
        cast(_Server, self.server).track(self.connection, False)
        super().finish()

    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep werkzeug's access log off standard error."""

    def run_wsgi(self) -> None:
        """Answer one request, then leave the connection open unless it must close."""
        # (http.server already answered "Expect: 100-continue" of an HTTP/1.1 request.)
        if len(self.headers.get_all("Content-Length") or ()) > 1 or (
                "Transfer-Encoding" in self.headers
                and self.headers.get("Transfer-Encoding", "").strip().lower() != "chunked"):
            self.close_connection = True  # framing a proxy may read otherwise: no reuse
            self.send_error(400, "Ambiguous request framing")
            return
        self.environ = environ = self.make_environ()
        answer = _Answer(self, environ, _wrap_body(environ))
        try:
            answer.run(self.server.app)
        except _DROPPED:
            self.close_connection = True  # the client is gone, or the answer was cut
        except Exception:
            self.close_connection = True  # whatever was sent of the answer is not framed
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            if not answer.sent:
                with contextlib.suppress(Exception):
                    _Answer(self, environ, None).run(InternalServerError())

    def drain(self) -> None:
        """Read what the client still sends of an unread body, so it sees the answer.

        Closing with unread bytes would reset the connection before the client reads the
        answer (a 413, say); this stops once nothing came for 10 ms.
        """
        self.close_connection = True
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            for _ in range(1000):
                if not selector.select(timeout=_DRAIN_WAIT):
                    break
                try:
                    if not self.rfile.read1(1 << 20):
                        break
                except OSError:
                    break


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, knowing its open connections so closing can end them."""

    def __init__(self, host: str, port: int, app: Any, fd: int) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(host, port, app, handler=_Handler, fd=fd)

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Add an accepted connection (``open_``) or remove a closing one."""
        with self.connections_lock:
            if open_:
                self.connections.add(connection)
            else:
                self.connections.discard(connection)

    def stop_reading(self) -> None:
        """End every kept-alive connection once its answer under way is sent.

        Shutting the reading side wakes a handler waiting for a next request (it reads the
        end of the stream and closes) and leaves one still answering free to finish.
        """
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)


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
            self._server = _Server(host, port, app, fd=sock.fileno())
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
        """Stop serving, end the kept-alive connections and free the port.

        An answer under way is still sent; a connection waiting for its next request is
        closed at once, so no client holds the port (or a thread) open.
        """
        stop = getattr(self.app, "stop", None)
        if callable(stop):
            stop()
        self._server.shutdown()
        self._server.stop_reading()
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
