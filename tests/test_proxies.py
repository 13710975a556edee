"""The transport honours the environment's proxies and CA bundle, read once per origin.

Two loopback servers: the API, and a forward proxy that records the absolute-URI requests
it gets and answers them itself. ``HTTP_PROXY`` (any case, or ``ALL_PROXY``) sends the
requests through the proxy, ``NO_PROXY`` bypasses it, and a spy shows the environment is
read once for many requests; ``~/.netrc`` never replaces the client's credentials. A
session the caller passes is used as requests uses it.
"""

from __future__ import annotations

import collections
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.sessions
import requests.utils

from conftest import SECRET_MARK, FakeClock
from lucca_cards import RateLimiter
from lucca_cards._auth import HeaderAuth
from lucca_cards._http import Transport

TOKEN = f"Bearer {SECRET_MARK}-token"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Recorder:
    """A loopback HTTP server that records each request line and Authorization header."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.seen.append((self.path, self.headers.get("Authorization")))
                body = json.dumps({"path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def api() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def proxy() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))


def transport(base_url: str, session: requests.Session | None = None) -> Transport:
    clock = FakeClock()
    return Transport(base_url, service="Test API",
                     auth=HeaderAuth(headers={"Authorization": TOKEN}),
                     limiter=RateLimiter(0, clock=clock), clock=clock, sleep=clock.sleep,
                     session=session)


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> collections.Counter[str]:
    """Replace ``module.name`` with a spy counting its calls; return the counter."""
    calls: collections.Counter[str] = collections.Counter()
    real: Callable[..., Any] = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_requests_go_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, proxy: Recorder, variable: str,
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    answer = transport(api.url).request_json("GET", "/things", params={"a": 1})
    assert answer == {"path": f"{api.url}/things?a=1"}  # the proxy answered
    assert proxy.seen == [(f"{api.url}/things?a=1", TOKEN)]  # an absolute URI
    assert api.seen == []


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
@pytest.mark.parametrize("entry", ["127.0.0.1", "*", "localhost,127.0.0.1"])
def test_no_proxy_bypasses_it(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, proxy: Recorder, variable: str, entry: str,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv(variable, entry)
    assert transport(api.url).request_json("GET", "/things") == {"path": "/things"}
    assert api.seen == [("/things", TOKEN)]
    assert proxy.seen == []


def test_no_proxy_naming_another_port_does_not_bypass(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, proxy: Recorder,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1:1")
    transport(api.url).request_json("GET", "/things")
    assert len(proxy.seen) == 1
    assert api.seen == []


def test_the_environment_is_read_once_for_many_requests(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, proxy: Recorder,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    ours = counting(monkeypatch, requests.utils, "get_environ_proxies")
    theirs = counting(monkeypatch, requests.sessions, "get_environ_proxies")
    netrc = counting(monkeypatch, requests.sessions, "get_netrc_auth")
    sender = transport(api.url)
    for number in range(6):
        sender.request_json("GET", f"/things/{number}")
    assert len(proxy.seen) == 6
    assert ours == {"get_environ_proxies": 1}
    assert theirs == {} and netrc == {}


def test_the_ca_bundle_of_the_environment_is_used_for_verify(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, tmp_path: Path,
) -> None:
    sent: list[Any] = []
    real_send = requests.adapters.HTTPAdapter.send

    def send(adapter: Any, request: Any, **kwargs: Any) -> Any:
        sent.append(kwargs["verify"])
        return real_send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "curl.pem"))
    transport(api.url).request_json("GET", "/one")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "requests.pem"))
    transport(api.url).request_json("GET", "/two")  # a new session reads it again
    assert sent == [str(tmp_path / "curl.pem"), str(tmp_path / "requests.pem")]


def test_a_netrc_entry_never_replaces_the_clients_credentials(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, tmp_path: Path,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    transport(api.url).request_json("GET", "/things")
    assert api.seen == [("/things", TOKEN)]


def test_a_session_passed_by_the_caller_is_used_as_requests_uses_it(
    monkeypatch: pytest.MonkeyPatch, api: Recorder, proxy: Recorder,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    theirs = counting(monkeypatch, requests.sessions, "get_environ_proxies")
    session = requests.Session()
    sender = transport(api.url, session=session)
    for _ in range(3):
        sender.request_json("GET", "/things")
    assert session.trust_env is True
    assert theirs == {"get_environ_proxies": 3}  # requests' own lookup, every request
    assert len(proxy.seen) == 3
