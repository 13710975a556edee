"""What the commands share about the process: stopping on a signal, logging to stderr."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """While the block runs, ``SIGTERM`` and ``SIGINT`` set the event it is given.

    A service manager (systemd, Kubernetes) stops with ``SIGTERM`` and a terminal with
    Ctrl-C: both end the serving loop, so the server closes its socket and its database.
    The previous handlers come back on the way out: a command run in-process (a notebook,
    a test) leaves Ctrl-C as it found it.
    """
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    previous = {number: signal.signal(number, _stop)
                for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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
