"""Every shell command of the quickstart and the guides works, run against the sandbox.

The pages are the README and every ``docs/*.rst`` but the reference ones
(``changelog.rst``, ``reference.rst``, ``cli-reference.rst``; ``docs/_generated`` is not
globbed): a new page is covered as soon as it exists. The README's fenced blocks are read
as the pages' code blocks.

What is a command
   * A ``console`` (or ``shell-session``) block is a shell session. Its lines that start
     with ``$ `` are commands, and the lines after one, up to the next prompt, are its
     output; in a block without any prompt, every non-blank line that is not a ``#``
     comment is a command (and no output is shown).
   * A ``bash``, ``sh`` or ``shell`` block is read the same way, unless it shows a file to
     save rather than input to type: its first line is a shebang (``#!/bin/sh``) or a
     comment naming the file's path (``# /etc/lucca-cards/lucca-cards.env …``). Such a
     block (the nightly script, the environment file) is never run: its paths are a
     deployment's.
   * In any other literal block (``text``, ``::``), only lines with a ``$ `` prompt are
     commands: a transcript shown as plain text (the quickstart's ``$ make demo``). A
     ``text`` block without prompts is a synopsis or a listing. A line of a ``::`` or
     ``text`` block that starts with a program the docs' commands use (``lucca-cards``,
     ``curl``…) and is no synopsis (no ``[``, ``(``, ``|``, no column of prose) fails
     :func:`test_no_literal_block_hides_a_command`: make it a ``console`` block.
   * A trailing ``# comment`` is dropped (not a ``#`` inside quotes), and ``\\``
     continuation lines are joined: the command's text is one line, the key of
     :data:`EXEMPT` and :data:`ALIASES`.

How they run
   One sandbox serves the whole module (``sandbox serve --write-config … --print-env``,
   the docs' generated company of 300 employees with a fixed seed and day, rate limits
   lifted). Each page is one shell session (``bash -c`` per command, the exports and the
   folder carried from one command to the next) in a folder of its own holding that
   sandbox's config file as ``sandbox.toml`` and ``lucca-cards.toml``, with its variables
   exported: ``--config lucca-cards.toml``, ``--config sandbox.toml`` and no ``--config``
   all reach it. No ``LUCCA_*``/``CARDS_*`` or proxy variable of the developer's
   environment gets in, and the venv's ``bin`` comes first on ``PATH``. A page runs its
   commands in document order, each its own test case (id ``page:line``); pages run side
   by side, but two imports (``users import``, ``departments import``, ``sync``, without
   ``--dry-run``) never run at the same time: they would race for the same accounts.

   Servers (``sandbox serve``, ``webhooks serve``, anything ending in ``&``) are waited
   for until they say they listen (their ``Serving …``/``listening on`` line: never a
   fixed sleep), and kept running until the page's last command, which may use them; then
   each is stopped as a reader would (Ctrl-C, ``SIGINT``, in the foreground; ``kill %1``,
   ``SIGTERM``, in the background) and must exit 0; a server started on a port of the
   docs that an earlier one of the page holds stops that one first, as a reader would.
   A command with ``--config`` (or a ``sandbox serve`` that writes its own settings) runs
   without the module sandbox's variables, which would win over its file: a reader who
   gives a file has none set; a command without ``--config``, as a reader who configured
   the environment.

Stand-ins (``docs_commands.session.PageSession.substitute``)
   Nothing may reach a host but loopback: a command naming another host fails unrun.

   * ``https://hooks.acme.example``, the docs' receiver, is a loopback stand-in that
     answers Lucca's activation challenge (``tests/lucca_receiver.py``), a path per page.
   * ``127.0.0.1:41231`` and ``:41232``, the docs' sandbox ports, are those of the last
     sandbox the page started, else of the module's.
   * The fixed ports 8000 (with 8001) and 8080 are free ports of the page's own.
   * ``/var/lib/lucca-cards/``, a deployment's state folder, is the page's folder.
   * ``NAME='…'``, the docs' placeholder for a secret, is the sandbox's value of ``NAME``.
   * ``lucca-webhooks delete 7``: the id the page's ``register`` printed where the docs
     show ``Created Lucca webhook endpoint 7`` (a new sandbox numbers its own).
   * ``curl`` reads a ``.curlrc`` of the harness: ``--fail-with-body`` (an HTTP error is a
     failure, as none is documented), ``--max-time``, ``--noproxy '*'``.
   * :data:`ALIASES`: a command run as another, with why; a command of :data:`ONCE` runs
     once for all the pages that show it.

What is asserted
   Exit status 0, unless the documented output's first line is one of :data:`FAILURES`:
   then that status, in the condition it describes (no configuration at all; a port held
   by the harness). A server must have said it listens. Where output is documented, the
   first line of the command's standard output or standard error (a terminal shows both)
   starts with the same words as the documented first line, up to its first number,
   ``…`` or "nothing to do" (blanks collapsed): counts and ids belong to the docs'
   illustrative company, ``…`` elides, and a zero count reads "nothing to do"; the words
   before them say which command answered and how.

   :data:`EXEMPT` lists the commands not run, each with why; a test checks that each is
   still in the docs, and that no ``lucca-cards`` command is among them.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from docs_commands.environment import PortPairs, module_sandbox
from docs_commands.expect import (
    PORT_TAKEN,
    UNCONFIGURED,
    Expectation,
    Failure,
    Outcome,
)
from docs_commands.extract import (
    DOCS,
    Command,
    blocks,
    commands,
    is_prompted,
    pages,
    strip_comment,
)
from docs_commands.processes import redact
from docs_commands.session import Context, PageSession
from lucca_receiver import Receiver

ROOT = DOCS.parent
#: Seconds: a command, a server's start; a page; the pages side by side.
COMMAND_TIMEOUT, PAGE_TIMEOUT, WORKERS = 60.0, 240.0, 3

#: Commands not run, with why.
EXEMPT: dict[str, str] = {
    "pip install -e .":
        "installs into the running environment, fetching the dependencies from the package "
        "index; the tests run from that installation",
    "pip install build twine": "fetches from the package index",
    "pip install 'lucca-cards[notebook]' jupyterlab":
        "fetches from the package index; the notebook extra is installed with the tests'",
    "jupyter lab examples/explore_lucca.ipynb":
        "starts an interactive server for a browser; tests/test_notebook.py executes the "
        "notebook cell by cell, as Jupyter does",
    "python -m build":
        "builds in an environment it fetches from the package index; tests/test_package.py "
        "builds the sdist and the wheel offline (--no-isolation)",
    "twine check --strict dist/*":
        "checks what python -m build wrote, not run here; tests/test_package.py runs the "
        "same check on its own build",
    "make test":
        "runs the whole suite, this module included, with ruff, mypy and the docs build",
    "make bench":
        "installs matplotlib from the package index, then measures for up to ten minutes",
    "sudo systemctl daemon-reload && sudo systemctl enable --now lucca-cards-sync.timer":
        "installs a timer into the machine's systemd, as root",
    "systemd-analyze calendar '*-*-* 02:30 Europe/Paris'":
        "systemd's own tool, checking systemd's syntax: test machines need not have systemd",
    "systemctl list-timers lucca-cards-sync.timer":
        "needs the timer installed into the machine's systemd",
    "journalctl -u lucca-cards-sync.service --since today":
        "reads the machine's journal of the installed service",
    "CARDS_WEBHOOK_SECRET='…' LUCCA_CARDS_DATABASE=/var/lib/lucca-cards/state.sqlite "
    "gunicorn --bind 127.0.0.1:8000 --workers 2 'lucca_cards.receiver:make_app()'":
        "gunicorn is not installed with lucca-cards nor its tests (any WSGI server serves "
        "make_app(), which tests/test_receiver_http.py serves)",
    "sqlite3 lucca-cards.sqlite \".backup 'lucca-cards-2026-05-01.sqlite'\"":
        "the sqlite3 shell is a system package, not a requirement of lucca-cards or its "
        "tests; the online backup is SQLite's own",
}

#: Commands run as another command, with why: the text run.
ALIASES: dict[str, str] = {
    # The Makefile's own recipe, from the checkout: -o keeps make from reinstalling .venv
    # (pip and the package index) when pyproject.toml is newer than its stamp.
    "make demo": f"make --no-print-directory -C {shlex.quote(str(ROOT))} "
                 "-o .venv/.installed-stamp demo",
}

#: Commands whose one run answers for every page that shows them: ``make demo`` runs in the
#: checkout with a sandbox of its own and writes no file, whichever page shows it.
ONCE = frozenset({"make demo"})

#: Documented first output lines that show a failure: the status, and how it is caused.
FAILURES = (
    Failure(re.compile(r"^lucca-cards: configuration error: "), 2, UNCONFIGURED,
            "nothing configured: run with no LUCCA_*/CARDS_* variable (and no --config)"),
    Failure(re.compile(r"cannot listen on port (?P<port>\d+)"), 2, PORT_TAKEN,
            "the port the message names is held by the harness while the command starts"),
)

PAGES = pages()
COMMANDS = [command for page in PAGES for command in commands(page)]
RUN = [command for command in COMMANDS if command.text not in EXEMPT]


def selected_pages(request: pytest.FixtureRequest) -> set[str]:
    """The pages of the commands this run tests (``-k`` may select a few)."""
    chosen = {item.callspec.params["command"].page for item in request.session.items
              if getattr(item, "module", None) is sys.modules[__name__]
              and hasattr(item, "callspec") and "command" in item.callspec.params}
    return chosen or {page.name for page in PAGES}


@pytest.fixture(scope="module")
def sessions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[Mapping[str, PageSession]]:
    """The sandbox, and every selected page's session, started side by side."""
    root = tmp_path_factory.mktemp("docs-commands")
    # Kept from one run to the next (pytest's cache folder), else beside the pages.
    cache = getattr(request.config, "cache", None)
    pycache = root / "_pycache" if cache is None else cache.mkdir("docs-commands-pycache")
    home = root / "_sandbox"
    home.mkdir()
    with module_sandbox(home, pycache, COMMAND_TIMEOUT) as sandbox, \
            Receiver().serve() as receiver:
        context = Context(
            root=root, variables={**sandbox.environment, **sandbox.variables},
            config=sandbox.config, sandbox_ports=sandbox.ports, receiver=receiver.url,
            aliases=ALIASES, exempt=EXEMPT, failures=FAILURES, free_ports=PortPairs(),
            timeout=COMMAND_TIMEOUT, once=ONCE, secrets=sandbox.secrets)
        chosen = selected_pages(request)
        started = {page.name: PageSession(page.name, commands(page), context)
                   for page in PAGES if page.name in chosen}
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            # The longest pages first: they bound the module's time.
            for session in sorted(started.values(), key=lambda s: -len(s.commands)):
                pool.submit(session.run)
            yield started


def describe(command: Command, expect: Expectation, outcome: Outcome,
             secrets: set[str]) -> str:
    """Say what the docs imply and what happened, without any secret."""
    wanted = f"exit status {expect.status}"
    if expect.condition:
        wanted += f" ({expect.condition})"
    if expect.words:
        wanted += f", a first line starting {expect.words!r}"
    said = [f"{command.id}: `{command.text}`"]
    if outcome.ran and outcome.ran != command.text:
        said.append(f"run as: `{outcome.ran}`")
    said += [f"the docs imply {wanted}; got {outcome.status}. {outcome.note}".rstrip(),
             "stdout:", *outcome.stdout.splitlines()[:15],
             "stderr:", *outcome.stderr.splitlines()[:15]]
    return redact("\n".join(said), secrets)


@pytest.mark.parametrize("command", RUN, ids=[command.id for command in RUN])
def test_the_documented_command_works(command: Command,
                                      sessions: Mapping[str, PageSession]) -> None:
    session = sessions[command.page]
    outcome = session.outcome(command, PAGE_TIMEOUT)
    expect = Expectation.of(command, FAILURES)
    met = expect.met_by(outcome)
    assert met, describe(command, expect, outcome, session.context.secrets)


def test_every_exemption_and_alias_is_still_in_the_docs() -> None:
    shown = {command.text for command in COMMANDS}
    assert set(EXEMPT) - shown == set(), "exempt, but in no page any more: drop it"
    assert set(ALIASES) - shown == set(), "aliased, but in no page any more: drop it"
    assert set(EXEMPT) & set(ALIASES) == set()


def test_every_lucca_cards_command_runs_and_each_failure_is_documented() -> None:
    assert len({command.id for command in RUN}) == len(RUN), "two commands share an id"
    assert not [text for text in EXEMPT if re.match(r"(?:\S+=\S+ )*lucca-cards\b", text)], \
        "every lucca-cards command of the docs runs"
    for failure in FAILURES:  # each failure the table knows is still documented
        assert any(failure.pattern.search(c.first_output or "") for c in RUN), failure.why


def test_make_demo_is_the_makefile_s_lucca_cards_demo() -> None:
    recipe = re.search(r"^demo:.*\n\t(.+)$", (ROOT / "Makefile").read_text("utf-8"),
                       re.MULTILINE)
    assert recipe is not None
    assert recipe[1] == "$(BIN)/lucca-cards demo"
    assert ".venv/.installed-stamp" in ALIASES["make demo"]


def program(text: str) -> str:
    """The program a command line starts (after any ``NAME=value``)."""
    found = re.match(r"(?:\w+=\S*\s+)*(\S+)", text)
    return "" if found is None else found[1]


#: A line that shows how to call a command rather than a call: ``[--all | --employee ID…]``
#: options, or a column of prose after it (``lucca-cards demo      a tour of …``).
SYNOPSIS = re.compile(r"[\[(|]|\S\s{2,}\S")


def test_no_literal_block_hides_a_command() -> None:
    """A line of a ``::`` or ``text`` block that a reader would type is in no session."""
    programs = {program(command.text) for command in COMMANDS} | {"lucca-cards"}
    hidden = [f"{block.page}:{block.line + number}" for page in PAGES for block in blocks(page)
              if block.language in (None, "", "text", "none") and not is_prompted(block)
              for number, line in enumerate(block.lines)
              if program(line) in programs and not SYNOPSIS.search(strip_comment(line))]
    assert hidden == [], "a block that shows a command to type: make it a console code-block"
