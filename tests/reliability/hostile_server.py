"""A hostile HTTP server on loopback: it answers whatever raw bytes a scenario writes.

werkzeug (which serves the sandbox) always speaks well-formed HTTP; an attacker does not.
This server parses the request like any server (``http.server``), records it, then hands
the socket to the current answer, which may write a malformed status line, drip bytes,
lie about lengths or cut the connection. Every answer closes the connection, so one
scenario never leaks into the next. The drip answers wait on the server's side only: the
client under test is what must give up in time.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, BinaryIO

TOKEN_PATH = "/connect/token"


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def echo(self) -> str:
        """Everything the request carried, as a server that echoes it would write it."""
        headers = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.path} [{headers}] {self.body.decode('latin-1')}"


@dataclass
class Wire:
    """The client's connection, as an answer sees it."""

    out: BinaryIO
    sock: socket.socket
    interval: float = 0.03

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    def drip(self, data: bytes) -> None:
        """Send one byte at a time, ``interval`` seconds apart (until the client leaves)."""
        for index in range(len(data)):
            self.write(data[index:index + 1])
            time.sleep(self.interval)

    def reset(self) -> None:
        """Cut the connection with a TCP reset."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


Answer = Callable[[Seen, Wire], None]


def response(status: int, body: Any = b"", *, reason: str = "X",
             headers: dict[str, str] | None = None, length: bool = True) -> bytes:
    """The bytes of a complete HTTP/1.1 answer (``body`` as bytes, text or JSON)."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    head = {"Content-Type": "application/json", "Connection": "close", **(headers or {})}
    if length and "Content-Length" not in head:
        head["Content-Length"] = str(len(data))
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in head.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def answer_with(status: int, body: Any = b"", **options: Any) -> Answer:
    """An answer writing one complete response."""
    data = response(status, body, **options)
    return lambda seen, wire: wire.write(data)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
        self.server.owner.seen.append(seen)
        wire = Wire(self.wfile, self.connection)
        with contextlib.suppress(OSError):
            self.server.owner.answer_for(seen)(seen, wire)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer


@dataclass
class HostileServer:
    """Serves the current ``answer`` to every request (tokens aside, see :meth:`answer_for`).

    ``token_answer`` answers the OAuth token endpoint, ``answer`` everything else.
    """

    answer: Answer = field(default=lambda seen, wire: wire.write(response(200, {})))
    token_answer: Answer = field(default=lambda seen, wire: wire.write(response(200, {})))
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def answer_for(self, seen: Seen) -> Answer:
        return self.token_answer if seen.path.startswith(TOKEN_PATH) else self.answer

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def hostile_servers() -> Iterator[tuple[HostileServer, HostileServer]]:
    """The hostile server, and an 'evil' one that redirects point to (it must see nothing)."""
    with HostileServer() as hostile, HostileServer() as evil:
        yield hostile, evil
