"""The world the docs' commands run in: a clean environment, and the module's sandbox."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lucca_cards._config_sources import tomllib
from served_sandbox import two_free_ports

from .expect import SETTINGS_PREFIXES
from .processes import Server, redact
from .session import SERVING

#: The venv's scripts: ``lucca-cards`` resolves here.
BIN = Path(sys.executable).parent
#: The module's sandbox: the docs' company (300 employees), always the same, unthrottled.
SANDBOX = ("--seed", "0", "--today", "2026-03-02", "--lucca-rate-limit", "0",
           "--cards-rate-limit", "0")
#: What curl does in every command (it reads ``$CURL_HOME/.curlrc``).
CURLRC = "--fail-with-body\n--silent\n--show-error\n--max-time 20\n--noproxy *\n"


def clean_environment(pycache: Path) -> dict[str, str]:
    """This process's environment without settings nor proxies, the venv first on PATH.

    The commands' Python caches its bytecode under ``pycache`` (not beside the sources):
    without a cache, as ``PYTHONDONTWRITEBYTECODE`` has it, each command would compile
    lucca_cards again.
    """
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}
    variables = {k: v for k, v in os.environ.items()
                 if not k.startswith(SETTINGS_PREFIXES) and k.lower() not in proxies
                 and k != "PYTHONDONTWRITEBYTECODE"}
    variables["PATH"] = f"{BIN}{os.pathsep}{variables.get('PATH', os.defpath)}"
    variables.update(NO_PROXY="*", no_proxy="*", PYTHONPYCACHEPREFIX=str(pycache),
                     PYTHONFAULTHANDLER="1")  # a server killed for not stopping says where
    return variables


def exported(lines: list[str]) -> dict[str, str]:
    """Return the variables of ``export NAME=VALUE`` lines (as ``--print-env`` prints them)."""
    variables = {}
    for line in lines:
        word, assignment = shlex.split(line)
        assert word == "export", line
        name, _, value = assignment.partition("=")
        variables[name] = value
    return variables


@dataclass
class ModuleSandbox:
    """The sandbox every page shares: its config file, its variables, its two ports."""

    config: Path
    environment: dict[str, str] = field(repr=False)  #: the commands' base, without settings
    variables: dict[str, str] = field(repr=False)  #: what ``--print-env`` exported
    ports: tuple[int, int]

    @property
    def secrets(self) -> set[str]:
        """The sandbox's credentials: never shown in a failure message."""
        return {v for k, v in self.variables.items() if k.endswith(("SECRET", "KEY"))}


@contextlib.contextmanager
def module_sandbox(home: Path, pycache: Path, timeout: float) -> Iterator[ModuleSandbox]:
    """Serve the sandbox from ``home`` (with the harness's ``.curlrc``); stop it after.

    Raises:
        AssertionError: it did not start, or did not exit 0 once stopped.
    """
    (home / ".curlrc").write_text(CURLRC, encoding="utf-8")
    config = home / "sandbox.toml"
    environment = {**clean_environment(pycache), "CURL_HOME": str(home)}
    sandbox = Server([str(BIN / "lucca-cards"), "sandbox", "serve", *SANDBOX,
                      "--write-config", str(config), "--print-env"], cwd=home, env=environment)
    try:
        assert sandbox.wait_ready(timeout), redact(f"the sandbox did not start: {sandbox.lines}",
                                                   ())
        # The file is written before the export lines: one line per setting it holds.
        count = sum(len(table) for table in tomllib.loads(config.read_text("utf-8")).values())
        assert sandbox.wait_for(lambda: len(sandbox.lines["stdout"]) >= count, timeout)
        serving = SERVING.search("".join(sandbox.lines["stderr"]))
        assert serving is not None
        yield ModuleSandbox(config, environment, exported(sandbox.lines["stdout"][:count]),
                            (int(serving[1]), int(serving[2])))
    finally:
        status = sandbox.stop(signal.SIGTERM)
    assert status == 0, "the module's sandbox did not exit 0 once stopped"


class PortPairs:
    """Give ports P, each with P + 1, free when given and never given twice (thread-safe)."""

    def __init__(self) -> None:
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            port = two_free_ports()
            while {port, port + 1} & self._used:
                port = two_free_ports()
            self._used.update({port, port + 1})
            return port
