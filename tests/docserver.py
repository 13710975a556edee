"""A loopback HTTP server that answers with documented payloads, to record cassettes from.

Each test registers the exact answers it needs (``server.route(...)``), points a client
at ``server.url``, and records the real exchange with vcrpy. The cassettes hold the
documented host (``DOC_HOSTS``), not the random loopback port, so they replay anywhere.
It only replays documents; stateful sessions are recorded from the sandbox
(``lucca_cards.sandbox``, fixture ``cassette_sandbox``) instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "lucca-reference"


def reference_example(name: str) -> Any:
    """Load one of Lucca's published examples (``employees.get.json`` …)."""
    return json.loads((REFERENCE / "examples" / name).read_text(encoding="utf-8"))


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class DocServer:
    """Serves registered answers; records every request it receives."""

    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def route(self, method: str, path: str, body: Any, status: int = 200,
              headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        """Queue an answer for ``method path`` (the last one repeats)."""
        self.answers.setdefault((method, path), []).append(
            Answer(status, body, headers or {}, content_type))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()  # keep the body readable after the response
        self.requests.append(request)
        queue = self.answers.get((request.method, request.path))
        if not queue:
            response = Response(json.dumps({"message": f"no route {request.path}"}),
                                status=404, content_type="application/json")
            return response(environ, start_response)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        text = "" if answer.body is None else (
            answer.body if isinstance(answer.body, str) else json.dumps(answer.body))
        response = Response(text, status=answer.status, headers=answer.headers,
                            content_type=answer.content_type)
        return response(environ, start_response)


def serve() -> Iterator[DocServer]:
    """Run a :class:`DocServer` on a free loopback port for the duration of a test."""
    app = DocServer()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=5)
