"""``lucca-cards sandbox serve`` in a child process, and ports nobody else is handed.

The kernel hands out ports from its ephemeral range to every socket bound to port 0 (the
sandbox's own, any ``ServedApp``) and to every outgoing connection. A port picked there and
released may be taken again before the child binds it; a port outside that range is taken
only by an explicit ``bind``, so :func:`two_free_ports` picks there.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import requests

#: Where Linux keeps the ephemeral range ("32768\t60999").
PORT_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Linux's default range, used when the file cannot be read (IANA's is 49152-65535).
DEFAULT_EPHEMERAL = (32768, 60999)


def ephemeral_range(path: Path = PORT_RANGE_FILE) -> tuple[int, int]:
    """Return the kernel's ephemeral port range (low, high), or Linux's default."""
    try:
        low, high = (int(part) for part in path.read_text(encoding="ascii").split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def port_is_free(port: int) -> bool:
    """Whether ``127.0.0.1:port`` can be bound (no ``SO_REUSEADDR``: TIME_WAIT counts)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def two_free_ports() -> int:
    """Return a port P such that P and P + 1 are free and outside the ephemeral range."""
    low, high = ephemeral_range()
    outside = [p for p in range(10_000, 65_535) if p + 1 < low or p > high]
    candidates = outside or list(range(1024, 65_535))  # no room outside: best effort
    for port in random.SystemRandom().sample(candidates, min(200, len(candidates))):
        if port_is_free(port) and port_is_free(port + 1):
            return port
    raise AssertionError("no two consecutive free ports on loopback")


class ServedSandbox:
    """A running ``sandbox serve`` child: its process and its connection line.

    The repr hides the line (it holds every credential), so a failing test shows none.
    """

    def __init__(self, process: subprocess.Popen[str], line: str) -> None:
        self.process, self.line = process, line
        self.info: dict[str, str] = json.loads(line)
        self.lucca_root = self.info["lucca_url"]
        self.cards_root = self.info["cards_url"].removesuffix("/v1")

    def __repr__(self) -> str:
        return f"ServedSandbox(pid={self.process.pid}, <credentials hidden>)"

    def get(self, root: str, control: str) -> Any:
        """Return the JSON of ``GET {root}/_sandbox/{control}``."""
        answer = requests.get(f"{root}/_sandbox/{control}", timeout=10)
        answer.raise_for_status()
        return answer.json()


def _text(errors: IO[str]) -> str:
    errors.seek(0)
    return errors.read().strip() or "(nothing on standard error)"


#: A small, unthrottled sandbox.
SMALL = ("--employees", "30", "--departments", "4", "--seed", "5",
         "--lucca-rate-limit", "0", "--cards-rate-limit", "0")


def command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``lucca-cards ARGS`` with ``env`` (and nothing of this process's LUCCA_/CARDS_)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LUCCA_", "CARDS_"))}
    return subprocess.run(  # noqa: S603 - this interpreter, our own CLI
        [sys.executable, "-m", "lucca_cards", *args], capture_output=True, text=True,
        timeout=120, env={**clean, **(env or {})}, check=False)


def serve_command(*options: str) -> list[str]:
    """Return the command line of ``lucca-cards sandbox serve`` with ``options``."""
    return [sys.executable, "-m", "lucca_cards", "sandbox", "serve", *options]


@contextlib.contextmanager
def serve_sandbox(*options: str, stop: int = signal.SIGTERM) -> Iterator[ServedSandbox]:
    """Run ``sandbox serve`` with ``options`` until the block ends, then stop it with ``stop``.

    A child that exits before its line fails the test with its standard error; one that
    does not exit with status 0 once stopped too, but only when the block itself passed,
    so a failing block is never masked by the exit status it causes.
    """
    with tempfile.TemporaryFile("w+") as errors:  # a file: a chatty child never blocks
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our own CLI
            serve_command(*options), stdout=subprocess.PIPE, stderr=errors, text=True
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                status = process.wait(timeout=30)
                pytest.fail(f"sandbox serve exited {status} before its line: {_text(errors)}")
            yield ServedSandbox(process, line)
        finally:
            if process.poll() is None:
                process.send_signal(stop)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
        if process.returncode != 0:
            pytest.fail(f"sandbox serve exited {process.returncode} once stopped: "
                        f"{_text(errors)}")
