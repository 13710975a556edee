"""Run one page's commands in order, as one shell session, with the harness's stand-ins."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import signal
import threading
import traceback
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from .expect import UNCONFIGURED, Expectation, Failure, Outcome, hosts, without_settings
from .extract import BASH, Command
from .processes import Environment, Server, holding, run

#: A long-running command of lucca-cards (a command sent to the background is one too).
SERVER = re.compile(r"\blucca-cards\s+(?:--debug\s+)?(?:sandbox|webhooks)\s+serve\b")
#: A command configured by a file, not by the environment: ``--config FILE``, or a
#: ``sandbox serve`` that writes the settings of its own sandbox for the next commands.
BY_FILE = re.compile(r"\s--config\b|\bsandbox\s+serve\b.*\s--(?:write-config|print-env)\b")
#: A sandbox's ``Serving`` line: where its Lucca and its Cards listen.
SERVING = re.compile(r"Serving Lucca at http://127\.0\.0\.1:(\d+) "
                     r"and Cards at http://127\.0\.0\.1:(\d+)/")
#: A command that creates Cards accounts and groups: two pages never run one at the same
#: time (two imports into one tenant at once would race for the same accounts).
WRITES = re.compile(r"\blucca-cards\b.*\s(?:import|sync)\b")

#: The docs' receiver, where Lucca would send its events; its stand-in is on loopback.
DOCS_RECEIVER = "https://hooks.acme.example"
#: The ports of the sandbox the docs show (sandbox.rst's JSON line): Lucca's, Cards'.
DOCS_SANDBOX_PORTS = (41231, 41232)
#: The fixed ports the docs' servers listen on; each page gets free ones in their place.
DOCS_FIXED_PORTS = (8000, 8001, 8080)
#: The deployment's state folder the docs show (a service's), this page's folder here.
DOCS_STATE_FOLDER = "/var/lib/lucca-cards/"
_PORT = re.compile(r"(127\.0\.0\.1:|localhost:|--port[ =]|\bport )(\d+)\b")
#: ``NAME='…'``: the docs' placeholder for a secret.
_PLACEHOLDER = re.compile(r"\b([A-Z][A-Z0-9_]*)=(['\"]?)…\2")
#: An id a command's output names, and where later commands of the page use it.
LEARNED = ((re.compile(r"Created Lucca webhook endpoint (\d+)"),
            re.compile(r"(lucca-webhooks\s+delete\s+)(\d+)\b")),)
#: What a stop says about the command: the signal of a terminal, or of ``kill %1``.
FOREGROUND_STOP, BACKGROUND_STOP = signal.SIGINT, signal.SIGTERM




@dataclass
class Context:
    """What the pages' sessions share: the module's sandbox, its files, the tables."""

    root: Path  #: each page gets a folder here
    #: a session's first environment (the sandbox's exported): never in a repr
    variables: dict[str, str] = field(repr=False)
    config: Path  #: the sandbox's ``--write-config`` file, copied into each page's folder
    sandbox_ports: tuple[int, int]  #: the module sandbox's Lucca and Cards ports
    receiver: str  #: the loopback stand-in for the docs' receiver
    aliases: Mapping[str, str]
    exempt: Mapping[str, str]
    failures: Sequence[Failure]
    free_ports: Callable[[], int]  #: a port P such that P and P + 1 are free
    timeout: float = 60.0
    once: frozenset[str] = frozenset()  #: commands whose one run answers every page
    writing: threading.Lock = field(default_factory=threading.Lock)
    secrets: set[str] = field(default_factory=set, repr=False)
    _shared: dict[str, Future[Outcome]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, text: str, compute: Callable[[], Outcome]) -> Outcome:
        """Return the outcome of ``text``, computed by the first page that asks for it."""
        with self._lock:
            future = self._shared.get(text)
            first = future is None
            if future is None:
                future = self._shared[text] = Future()
        if first:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
                raise
        return future.result()

    def placeholder(self, name: str) -> str | None:
        """The sandbox's value for a ``NAME=…`` placeholder, if it has one."""
        return self.variables.get(name)


@dataclass
class _Running:
    command: Command
    server: Server
    stop: int
    ran: str


def _documented_ports(text: str) -> set[int]:
    """The ports a command of the docs names (``--port 8080``, ``127.0.0.1:8000``)."""
    return {int(found[2]) for found in _PORT.finditer(text)}


class PageSession:
    """One page's commands, run in document order as one shell session in one folder.

    Servers (``sandbox serve``, ``webhooks serve``, anything ending in ``&``) are started,
    awaited until they say they listen, and kept running until the page's last command
    ran: the docs' next commands use them, as from another terminal. Then each is stopped
    as a reader would: Ctrl-C (``SIGINT``) in the foreground, ``kill %1`` (``SIGTERM``)
    in the background.
    """

    def __init__(self, page: str, page_commands: Sequence[Command], context: Context) -> None:
        self.page, self.commands, self.context = page, list(page_commands), context
        self.name = page.removesuffix(".rst")
        self.folder = context.root / self.name
        self.folder.mkdir()
        for copy in ("sandbox.toml", "lucca-cards.toml"):
            shutil.copy2(context.config, self.folder / copy)
        self.environment = Environment(dict(context.variables), self.folder)
        self.outcomes: dict[int, Outcome] = {}
        self.done = threading.Event()
        self.crash: str | None = None  #: the harness's own error, with its traceback
        self._running: list[_Running] = []
        self._sandbox = context.sandbox_ports
        self._ports: dict[int, int] = {}
        self._learned: dict[str, str] = {}

    def run(self) -> None:
        """Run every command of the page that is not exempt, then stop its servers."""
        try:
            for command in self.commands:
                if command.text not in self.context.exempt:
                    self.outcomes[command.line] = self._run(command)
        except BaseException:  # reported by every test of the page
            self.crash = traceback.format_exc()
        finally:
            try:
                self._stop_servers()
            finally:
                self.done.set()

    def _run(self, command: Command) -> Outcome:
        text = self.substitute(self.context.aliases.get(command.text, command.text))
        away = hosts(text)
        if away:
            return Outcome(None, "", "", f"not run: it names {', '.join(away)}, not a loopback "
                           "host: give it a stand-in (docs_commands/session.py) or exempt it",
                           text)
        expect = Expectation.of(command, self.context.failures)
        # A reader who gives --config has no settings in the environment (they would win
        # over the file); one who gives none has configured the environment.
        env = (without_settings(self.environment.variables)
               if expect.condition == UNCONFIGURED or BY_FILE.search(text) else None)
        background = text.endswith("&") and not text.endswith("&&")
        if background or SERVER.search(text):
            return self._serve(command, text.removesuffix("&").rstrip(), expect,
                               BACKGROUND_STOP if background else FOREGROUND_STOP, env)
        if command.text in self.context.once:
            return self.context.shared(command.text, lambda: run(
                text, self.environment, timeout=self.context.timeout, env=env))
        with self.context.writing if WRITES.search(text) and "--dry-run" not in text \
                else contextlib.nullcontext():
            outcome = run(text, self.environment, timeout=self.context.timeout, env=env)
        self._learn(command, outcome)
        return outcome

    def _serve(self, command: Command, text: str, expect: Expectation, stop: int,
               env: Mapping[str, str] | None) -> Outcome:
        self._stop_servers(_documented_ports(command.text) & set(DOCS_FIXED_PORTS))
        port = None if expect.port is None else self.port(expect.port)
        with holding(port):
            # The shell waits through the stop (its trap): its status is the command's.
            server = Server([BASH, "-c", f"trap : INT TERM\n{text}"], cwd=self.environment.cwd,
                            env=self.environment.variables if env is None else env)
            ready = server.wait_ready(self.context.timeout)
        if not ready:
            if server.ended:
                return server.outcome(server.stop(stop), "ended before it said it listens",
                                      text, listened=False)
            return server.outcome(server.stop(signal.SIGKILL), "did not say it listens within "
                                  f"{self.context.timeout:g} s: killed", text, listened=False)
        if server.process.poll() is not None:
            return server.outcome(server.stop(stop), "ended once it had said it listens",
                                  text, listened=True)
        serving = SERVING.search("".join(server.lines["stderr"]))
        if serving is not None:  # the docs' sandbox ports now mean this one's
            self._sandbox = (int(serving[1]), int(serving[2]))
        self._running.append(_Running(command, server, stop, text))
        return server.outcome(None, "listening; stopped after the page's last command", text,
                              listened=True)

    def _stop_servers(self, ports: Collection[int] | None = None) -> None:
        """Stop the page's servers; with ``ports``, only those on one of these docs' ports.

        A reader stops a server before starting another on its port (the README shows
        ``webhooks serve --port 8080`` in two sections); the rest run to the page's end.
        """
        for running in reversed(list(self._running)):
            if ports is not None and not ports & _documented_ports(running.command.text):
                continue
            self._running.remove(running)
            status = running.server.stop(running.stop)
            name = signal.Signals(running.stop).name
            when = "after the page's last command" if ports is None else "for the next server"
            self.outcomes[running.command.line] = running.server.outcome(
                status, f"listened; stopped with {name} {when}", running.ran, listened=True)

    def port(self, documented: int) -> int:
        """Return the port that stands for a port of the docs on this page."""
        if documented in DOCS_SANDBOX_PORTS:
            return self._sandbox[DOCS_SANDBOX_PORTS.index(documented)]
        if documented not in DOCS_FIXED_PORTS:
            return documented
        if documented not in self._ports:
            base = self.context.free_ports()  # P and P + 1, as 8000 and 8001 go together
            pair = (8000, 8001) if documented in (8000, 8001) else (documented, None)
            self._ports.update({d: base + n for n, d in enumerate(pair) if d is not None})
        return self._ports[documented]

    def substitute(self, text: str) -> str:
        """Return ``text`` with the stand-ins of the harness (see the test module)."""
        text = text.replace(DOCS_RECEIVER, f"{self.context.receiver}/{self.name}")
        text = text.replace(DOCS_STATE_FOLDER, f"{self.folder}/")
        text = _PORT.sub(lambda m: f"{m[1]}{self.port(int(m[2]))}", text)

        def secret(found: re.Match[str]) -> str:
            value = self.context.placeholder(found[1])
            return found[0] if value is None else f"{found[1]}={shlex.quote(value)}"

        text = _PLACEHOLDER.sub(secret, text)
        for _, use in LEARNED:
            text = use.sub(lambda m: m[1] + self._learned.get(m[2], m[2]), text)
        return text

    def _learn(self, command: Command, outcome: Outcome) -> None:
        shown = "\n".join(command.output)
        for said, _ in LEARNED:
            documented, actual = said.search(shown), said.search(outcome.stdout)
            if documented is not None and actual is not None:
                self._learned[documented[1]] = actual[1]

    def outcome(self, command: Command, timeout: float) -> Outcome:
        """Wait for the page's end, then return what ``command`` did."""
        if not self.done.wait(timeout):
            raise AssertionError(f"{self.page}: its commands did not end within {timeout:g} s")
        if self.crash is not None:
            raise AssertionError(f"{self.page}: the harness failed:\n{self.crash}")
        return self.outcomes[command.line]
