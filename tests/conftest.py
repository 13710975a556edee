"""Shared fixtures: a documented-payload server, cassette scrubbing, fake clock and sleep."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from docserver import DocServer, serve

# Every secret the tests use starts with this marker, so a test can grep cassettes,
# logs and reports for any leak.
SECRET_MARK = "sEcReT"
SCRUBBED = "<scrubbed>"
# Host written into cassettes in place of the loopback server: the documented one.
CASSETTE_HOST = "example.test"

_SECRET_FIELDS = re.compile(r"(client_secret|access_token|api_key|secret)", re.I)


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
        text = json.dumps(_scrub_json(json.loads(text)))
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
