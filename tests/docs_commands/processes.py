"""Run a documented command, or a server, as a shell session would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from .expect import Outcome
from .extract import BASH

#: The line a server writes once it listens.
READY = re.compile(r"^Serving |: listening on ")


class Server:
    """A long-running command in its own process group, its output read as it comes.

    :meth:`wait_ready` returns once a line of either stream matches ``ready``, or once the
    output ends (the process exited first: an expected failure, such as a taken port).
    """

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                 ready: re.Pattern[str] = READY) -> None:
        self.ready = ready
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._changed = threading.Condition()
        self._seen_ready = False
        self.process = subprocess.Popen(  # noqa: S603 - documented commands, through bash
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            errors="replace", start_new_session=True)
        self._readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                         for name, stream in (("stdout", self.process.stdout),
                                              ("stderr", self.process.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._changed:
                self.lines[name].append(line)
                self._seen_ready = self._seen_ready or bool(self.ready.search(line))
                self._changed.notify_all()
        stream.close()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate`` (called under the lock) holds, the output ends, or time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.ended:
                    return predicate()
                self._changed.wait(min(remaining, 0.5))  # woken by each line, or the end
        return True

    @property
    def ended(self) -> bool:
        """Whether both its streams ended (the process exits, or did)."""
        return not any(reader.is_alive() for reader in self._readers)

    def wait_ready(self, timeout: float) -> bool:
        """Wait for the ready line; ``False`` when the output ended (or time ran out) first."""
        return self.wait_for(lambda: self._seen_ready, timeout)

    def stop(self, sig: int, timeout: float = 30.0) -> int | None:
        """Send ``sig`` to the process group and wait; ``None``: killed after ``timeout``.

        A process still there after ``timeout`` gets ``SIGABRT`` first: with
        ``PYTHONFAULTHANDLER`` set, Python prints where each of its threads was.
        """
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        try:
            status: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            _kill(self.process)
            status = None
        for reader in self._readers:
            reader.join(timeout=timeout)
        return status

    def outcome(self, status: int | None, note: str = "", ran: str = "",
                *, listened: bool) -> Outcome:
        with self._changed:
            return Outcome(status, "".join(self.lines["stdout"]),
                           "".join(self.lines["stderr"]), note, ran, listened)


def _kill(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session, and every process of its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass
class Environment:
    """A shell session's state between two commands: its exported variables and folder."""

    variables: dict[str, str]
    cwd: Path

    #: bash's own, set afresh by each shell: not carried from one command to the next.
    SHELL_OWN: ClassVar[frozenset[str]] = frozenset({"SHLVL", "_", "OLDPWD", "PWD"})

    def update(self, dump: bytes) -> None:
        """Take the variables ``env -0`` printed at a command's end (and its folder)."""
        variables = dict(entry.split("=", 1) for entry in dump.decode("utf-8").split("\0")
                         if "=" in entry)
        if variables.get("PWD"):
            self.cwd = Path(variables["PWD"])
        self.variables = {k: v for k, v in variables.items() if k not in self.SHELL_OWN}


def run(command: str, environment: Environment, *, timeout: float,
        env: Mapping[str, str] | None = None) -> Outcome:
    """Run ``command`` with ``bash -c`` in the session.

    Its exports and its folder carry on to the next command, unless ``env`` is given
    (a condition of this command only).
    """
    dump = environment.cwd.parent / f".{environment.cwd.name}.env"
    dump.unlink(missing_ok=True)
    keep = env is None
    script = command if not keep else (
        f"{command}\n__docs_status=$?\nenv -0 > '{dump}'\nexit $__docs_status")
    process = subprocess.Popen(  # noqa: S603 - documented commands, through bash
        [BASH, "-c", script], cwd=environment.cwd,
        env=dict(environment.variables if env is None else env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        stdout, stderr = process.communicate()
        return Outcome(None, _text(stdout), _text(stderr),
                       f"still running after {timeout:g} s: killed", command)
    if keep and dump.exists():
        environment.update(dump.read_bytes())
    return Outcome(process.returncode, _text(stdout), _text(stderr), "", command)


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")


@contextlib.contextmanager
def holding(port: int | None) -> Iterator[None]:
    """Keep ``127.0.0.1:port`` taken while the block runs (if it is free at all)."""
    if port is None:
        yield
        return
    with socket.socket() as held:
        with contextlib.suppress(OSError):  # taken already: taken all the same
            held.bind(("127.0.0.1", port))
            held.listen()
        yield


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` without any of ``secrets``, nor a credential the text itself shows.

    A credential shown is a value given to a name that ends in ``secret`` or ``key``
    (``"api_key": "…"``, ``webhook_secret = "…"``, ``LUCCA_WEBHOOK_SECRET=…``): it is
    hidden wherever it appears, the line that shows it alone included.
    """
    shown = re.findall(r"(?:secret|key)\"?\s*[:=]\s*\"([^\"]+)\"", text, re.IGNORECASE)
    shown += re.findall(r"(?:SECRET|KEY)=(?:'([^']+)'|(\S+))", text)
    values = {value for found in shown for value in ((found,) if isinstance(found, str)
                                                     else found) if value}
    for secret in sorted({s for s in {*secrets, *values} if len(s) >= 8}, key=len,
                         reverse=True):
        text = text.replace(secret, "<secret>")
    return text

