"""What the docs imply about a command's run, and whether a run meets it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .extract import Command

#: Words that stop the comparison of a first line: counts, elisions, a zero count's words.
UNSTABLE = re.compile(r"\d|…|nothing to do")
#: The hosts a command may name: this machine's loopback only.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
_URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://(\[[^\]]*\]|[^/:\s'\"]+)", re.IGNORECASE)

#: The settings' variables: a command of the docs with none of them is unconfigured.
SETTINGS_PREFIXES = ("LUCCA_", "CARDS_")
UNCONFIGURED, PORT_TAKEN = "unconfigured", "port-taken"




def stable_words(line: str) -> str:
    """Return the words of a documented line before its first number, ``…`` or zero count.

    Blanks are collapsed: a table's columns are padded to what they hold.
    """
    words = " ".join(line.split())
    unstable = UNSTABLE.search(words)
    return words if unstable is None else words[:unstable.start()]


def first_lines(outcome: Outcome) -> list[str]:
    """The first non-blank line of each stream, blanks collapsed (stdout's first)."""
    found = []
    for stream in (outcome.stdout, outcome.stderr):
        line = next((line for line in stream.splitlines() if line.strip()), None)
        if line is not None:
            found.append(" ".join(line.split()))
    return found


def hosts(text: str) -> list[str]:
    """Return the hosts of the URLs in ``text`` that are not this machine's loopback."""
    return [host for host in _URL_HOST.findall(text) if host.lower() not in LOOPBACK]


def without_settings(variables: Mapping[str, str]) -> dict[str, str]:
    """Return ``variables`` without any ``LUCCA_*`` or ``CARDS_*`` one."""
    return {k: v for k, v in variables.items() if not k.startswith(SETTINGS_PREFIXES)}


@dataclass(frozen=True)
class Failure:
    """A documented first output line that shows a failure, and how the harness causes it."""

    pattern: re.Pattern[str]  #: searched in the documented first line (``port`` group: held)
    status: int  #: the exit status the docs give for it
    condition: str  #: :data:`UNCONFIGURED` or :data:`PORT_TAKEN`
    why: str


@dataclass(frozen=True)
class Expectation:
    """What the docs imply about a command's run."""

    status: int = 0
    condition: str | None = None
    port: int | None = None  #: the documented port to hold (:data:`PORT_TAKEN`)
    words: str | None = None  #: the stable words the first output line starts with

    @classmethod
    def of(cls, command: Command, failures: Sequence[Failure]) -> Expectation:
        first = command.first_output
        words = stable_words(first) if first else None
        for failure in failures:
            found = failure.pattern.search(first or "")
            if found is not None:
                port = found.groupdict().get("port")
                return cls(failure.status, failure.condition,
                           None if port is None else int(port), words or None)
        return cls(words=words or None)

    def met_by(self, outcome: Outcome) -> bool:
        """Whether ``outcome`` has the status and, if any, the first line's words.

        A server expected to succeed must also have said it listens.
        """
        if self.status == 0 and outcome.listened is False:
            return False
        return outcome.status == self.status and (
            not self.words or any(line.startswith(self.words) for line in first_lines(outcome)))


@dataclass
class Outcome:
    """What a command did: its exit status and its two streams."""

    status: int | None  #: ``None``: not run to its end (killed, or refused by the harness)
    stdout: str = field(repr=False)  # a repr never shows what a command printed (secrets)
    stderr: str = field(repr=False)
    note: str = ""  #: what the harness did or saw besides
    ran: str = field(default="", repr=False)  #: the command run, stand-ins substituted
    listened: bool | None = None  #: a server's: whether it said it listens


