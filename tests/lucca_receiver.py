"""A tiny Lucca webhook receiver on loopback, for the sandbox's event tests.

It answers the activation challenge (``?echo=`` or ``?challenge=``) unless told not to,
records every POST (headers and raw body), and answers each with the next status of
``statuses`` (then 202). Tests wait on it with a timeout, never by sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from lucca_cards._serving import ServedApp


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature §B14 describes, computed here independently of the sandbox."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + b"." + body,
                   hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class Receiver:
    """A WSGI app recording deliveries; serve it with :meth:`serve`."""

    def __init__(self, statuses: Iterable[int] = (), *, echo: bool = True) -> None:
        self.statuses = list(statuses)
        self.echo = echo
        self.challenges: list[dict[str, str]] = []
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "GET":
            with self._changed:
                self.challenges.append(dict(request.args))
                self._changed.notify_all()
            value = request.args.get("echo", request.args.get("challenge", ""))
            if not self.echo:
                return Response("no", status=503)(environ, start_response)
            return Response(value, content_type="text/plain")(environ, start_response)
        with self._changed:
            self.deliveries.append(Delivery(dict(request.headers), request.get_data()))
            status = self.statuses.pop(0) if self.statuses else 202
            self._changed.notify_all()
        return Response(b"", status=status)(environ, start_response)

    def serve(self) -> ServedApp:
        return ServedApp(self)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``count`` POSTs arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.deliveries) >= count, timeout)

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [delivery.event for delivery in self.deliveries]

    def topics(self) -> list[str]:
        return [event["topic"] for event in self.events()]
