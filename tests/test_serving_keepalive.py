"""``ServedApp`` keeps HTTP/1.1 connections alive, frames every answer, and still closes at once.

Every exchange goes over loopback, to a small WSGI application that answers by path; a test
that reuses a connection checks the client port the server saw, or the socket itself.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import requests

from lucca_cards._serving import ServedApp

#: A generous bound on what must be immediate (no test sleeps: this only catches a hang).
PROMPT = 5.0
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class App:
    """Answer by path; remember each request's client port; ``/held`` waits for :meth:`stop`."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.entered = threading.Event()
        self.released = threading.Event()

    def stop(self) -> None:
        self.released.set()  # what the sandbox's fakes do: late answers go out now

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.ports.append(int(environ["REMOTE_PORT"]))
        path = environ["PATH_INFO"]
        if path == "/echo":  # reads the whole stream it is given, unbounded
            body = environ["wsgi.input"].read()
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        if path == "/streamed":  # no Content-Length
            start_response("200 OK", [("Content-Type", "text/plain")])
            return iter([b"one,", b"two"])
        if path == "/empty":
            start_response("204 No Content", [])
            return []
        if path == "/boom":
            raise RuntimeError("a bug in the application")
        if path == "/short":  # promises more than it sends
            start_response("200 OK", [("Content-Length", "10")])
            return [b"12345"]
        if path == "/long":  # sends more than it promises: the rest must not pass for
            start_response("200 OK", [("Content-Length", "2")])  # the next answer
            return [b"okHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"]
        if path == "/held":
            self.entered.set()
            self.released.wait(PROMPT)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]


@pytest.fixture
def served() -> Iterator[tuple[ServedApp, App]]:
    app = App()
    with ServedApp(app) as served:
        yield served, app


def connect(served: ServedApp) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(served.host, served.port, timeout=PROMPT)


def exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body)
    response = conn.getresponse()
    return response, response.read()


def send_raw(server: ServedApp, request: bytes) -> socket.socket:
    """Open a connection of its own and send ``request`` bytes as they are."""
    sock = socket.create_connection((server.host, server.port), timeout=PROMPT)
    sock.sendall(request)
    return sock


def raw_answer(sock: socket.socket) -> bytes:
    """Read until the server closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_two_calls_of_a_session_share_one_connection(served: tuple[ServedApp, App]) -> None:
    server, app = served
    with requests.Session() as session:
        session.trust_env = False
        first = session.get(server.url + "/")
        second = session.get(server.url + "/")
    assert first.text == second.text == "ok"
    assert first.headers.get("Connection") is None
    assert len(app.ports) == 2 and app.ports[0] == app.ports[1]


def test_answers_without_a_length_are_chunked_and_the_connection_kept(
    served: tuple[ServedApp, App],
) -> None:
    server, app = served
    conn = connect(server)
    streamed, text = exchange(conn, "GET", "/streamed")
    sock = conn.sock
    assert streamed.getheader("Transfer-Encoding") == "chunked" and text == b"one,two"
    for method, path in (("HEAD", "/"), ("GET", "/empty"), ("GET", "/")):
        response, body = exchange(conn, method, path)
        assert not response.will_close and conn.sock is sock
    assert response.status == 200 and body == b"ok"
    head, _ = exchange(conn, "HEAD", "/")
    assert head.getheader("Content-Length") == "2"  # the GET's length, no body sent
    assert len(set(app.ports)) == 1
    conn.close()


def test_an_application_cannot_read_into_the_next_request(
    served: tuple[ServedApp, App],
) -> None:
    server, _ = served
    pipelined = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                 b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with send_raw(server, pipelined) as sock:
        received = raw_answer(sock)
    first, _, second = received.partition(b"hello")
    assert first.startswith(b"HTTP/1.1 200") and b"Connection: close" not in first
    assert second.startswith(b"HTTP/1.1 200") and second.endswith(b"\r\n\r\nok")


def test_an_unread_body_closes_the_connection_after_the_answer(
    served: tuple[ServedApp, App],
) -> None:
    server, _ = served
    conn = connect(server)
    response, body = exchange(conn, "POST", "/", b"x" * 200_000)  # "/" never reads it
    assert (response.status, body) == (200, b"ok")
    assert response.getheader("Connection") == "close" and response.will_close
    conn.close()


def test_an_http_1_0_client_gets_a_closed_connection_for_an_unframed_answer(
    served: tuple[ServedApp, App],
) -> None:
    with send_raw(served[0], b"GET /streamed HTTP/1.0\r\nHost: x\r\n\r\n") as sock:
        received = raw_answer(sock)
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Connection: close" in head
    assert body == b"one,two"


def test_a_failing_application_answers_500_and_closes(served: tuple[ServedApp, App]) -> None:
    server, _ = served
    conn = connect(server)
    response, _ = exchange(conn, "GET", "/boom")
    assert response.status == 500 and response.will_close
    conn.close()


def test_close_ends_an_idle_kept_alive_connection_at_once(
    served: tuple[ServedApp, App],
) -> None:
    server, _ = served
    with send_raw(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        answer = b""
        while not answer.endswith(b"ok"):
            answer += sock.recv(65536)
        started = time.monotonic()
        server.close()  # the connection is open and idle, its handler waiting to read
        assert time.monotonic() - started < PROMPT
        assert sock.recv(1) == b""  # closed by the server, not left hanging


def test_close_lets_an_answer_under_way_finish(served: tuple[ServedApp, App]) -> None:
    server, app = served
    conn = connect(server)
    answers: list[bytes] = []
    waiting = threading.Thread(target=lambda: answers.append(exchange(conn, "GET", "/held")[1]))
    waiting.start()
    assert app.entered.wait(PROMPT)
    server.close()  # releases /held (the app's stop), then ends the connection
    waiting.join(PROMPT)
    assert answers == [b"ok"]
    conn.close()


def test_an_answer_shorter_than_its_length_closes_the_connection(
    served: tuple[ServedApp, App]
) -> None:
    sock = send_raw(served[0], b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = raw_answer(sock)  # reads to the end: it comes, the connection being closed
    assert answer.endswith(b"12345")


def test_bytes_past_an_answers_length_never_reach_the_next_request(
    served: tuple[ServedApp, App]
) -> None:
    sock = send_raw(served[0], b"GET /long HTTP/1.1\r\nHost: x\r\n\r\n"
                               b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = raw_answer(sock)
    assert b"EVIL" not in answer
    assert answer.count(b"HTTP/1.1 200") == 1  # cut after its 2 bytes, then closed


@pytest.mark.parametrize("framing", [
    b"Content-Length: 3\r\nContent-Length: 0\r\n",
    b"Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n",
])
def test_an_ambiguous_request_is_refused_and_nothing_smuggled(
    served: tuple[ServedApp, App], framing: bytes
) -> None:
    sock = send_raw(served[0], b"POST /echo HTTP/1.1\r\nHost: x\r\n" + framing +
                    b"\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = raw_answer(sock)
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.count(b"HTTP/1.1") == 1


def test_expect_100_continue_is_answered_once(served: tuple[ServedApp, App]) -> None:
    sock = send_raw(served[0], b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                               b"Expect: 100-continue\r\nConnection: close\r\n\r\nabc")
    answer = raw_answer(sock)
    assert answer.count(b"100 Continue") == 1
    assert answer.endswith(b"abc")
