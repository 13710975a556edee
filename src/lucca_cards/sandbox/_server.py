"""Serve a WSGI application on a loopback port, in a background thread, quietly."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log on standard error."""

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


class ServedApp:
    """A WSGI app listening on ``host:port`` (``port`` 0 = a free one) until :meth:`close`.

    >>> from werkzeug.wrappers import Response
    >>> with ServedApp(Response("hi")) as served:
    ...     served.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.host, self.port = host, self._server.server_port
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
