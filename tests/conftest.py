"""Shared fixtures: sandbox and documented-payload servers, cassette scrubbing, fake clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from docserver import DocServer, serve
from lucca_cards.sandbox import Sandbox, SandboxCredentials

# Every secret the tests use starts with this marker, so a test can grep cassettes,
# logs and reports for any leak.
SECRET_MARK = "sEcReT"
SCRUBBED = "<scrubbed>"
# Host written into cassettes in place of the loopback server: the documented one.
CASSETTE_HOST = "example.test"

_SECRET_FIELDS = re.compile(r"(client_secret|access_token|api_key|secret)", re.I)
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")


class FakeClock:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def docserver() -> Iterator[DocServer]:
    yield from serve()


@pytest.fixture
def cassette_sandbox() -> Iterator[Sandbox]:
    """A small sandbox that always holds the same company, to record cassettes from.

    Fixed seed, date and (marked) credentials: a re-recording sends the same requests,
    so the cassettes replay without the sandbox answering anything.
    """
    credentials = SandboxCredentials(
        client_secret=f"{SECRET_MARK}-client", api_key=f"{SECRET_MARK}-legacy-key",
        cards_tenant="acme", cards_api_key=f"{SECRET_MARK}-cards-key",
        webhook_secret=f"{SECRET_MARK}-webhook",
    )
    with Sandbox(seed=21, employees=40, departments=6, trainings=3, today=dt.date(2026, 11, 2),
                 lucca_rate_limit=0, cards_rate_limit=0, credentials=credentials) as sandbox:
        yield sandbox


def _scrub_request(request: Any) -> Any:
    parts = urlsplit(request.uri)
    request.uri = urlunsplit(("https", CASSETTE_HOST, parts.path, parts.query, ""))
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        body = re.sub(r"(client_secret=)[^&]*", r"\1" + SCRUBBED, body)
        request.body = body.encode()
    return request


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (SCRUBBED if _SECRET_FIELDS.fullmatch(k) and isinstance(v, str)
                    else _scrub_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["body"].get("string", b"")
    text = body.decode() if isinstance(body, bytes) else body
    with contextlib.suppress(ValueError):
        text = json.dumps(_scrub_json(json.loads(text)), ensure_ascii=False)
    text = _LOOPBACK.sub(f"https://{CASSETTE_HOST}", text)
    response["body"]["string"] = text.encode()
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [("authorization", SCRUBBED), ("x-tenant", None),
                           ("user-agent", None)],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "match_on": ["method", "path", "query"],
        "decode_compressed_response": True,
        # CI replays only: a missing cassette fails instead of being recorded there.
        "record_mode": "none" if os.environ.get("CI") else "once",
    }
