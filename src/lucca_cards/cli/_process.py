"""What the commands share about the process: stopping on a signal, logging to stderr."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


def stop_on_signals() -> threading.Event:
    """Return an event set by ``SIGTERM`` or ``SIGINT``, for a clean exit from a serving loop.

    A service manager (systemd, Kubernetes) stops with ``SIGTERM`` and a terminal with
    Ctrl-C: both end the loop, so the server closes its socket and its database.
    """
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


@contextlib.contextmanager
def logging_to_stderr(name: str, level: int, *, enabled: bool = True,
                      form: str = "%(asctime)s %(name)s %(levelname)s %(message)s",
                      ) -> Iterator[None]:
    """While the block runs, send the ``name`` logger's records at ``level`` to stderr."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(form))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
