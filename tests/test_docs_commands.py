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
     ``text`` block without prompts is a synopsis or a listing. A ``::`` block that starts
     with a program the docs' commands use (``lucca-cards``, ``curl``…) fails
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
   still in the docs, and that every command found is run or exempt.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from docs_commands.expect import (
    PORT_TAKEN,
    SETTINGS_PREFIXES,
    UNCONFIGURED,
    Expectation,
    Failure,
    Outcome,
    hosts,
    stable_words,
)
from docs_commands.extract import DOCS, Command, blocks, commands, is_prompted, pages
from docs_commands.processes import Server, redact
from docs_commands.session import SERVING, Context, PageSession
from lucca_cards._config_sources import tomllib
from lucca_receiver import Receiver
from served_sandbox import two_free_ports

ROOT = DOCS.parent
#: The venv's scripts: ``lucca-cards`` resolves here.
BIN = Path(sys.executable).parent
#: The module's sandbox: the docs' company (300 employees), always the same, unthrottled.
SANDBOX = ("--seed", "0", "--today", "2026-03-02", "--lucca-rate-limit", "0",
           "--cards-rate-limit", "0")
#: Seconds: a command, a server's start; a page; the pages side by side.
COMMAND_TIMEOUT, PAGE_TIMEOUT, WORKERS = 60.0, 240.0, 3
#: What curl does in every command (it reads ``$CURL_HOME/.curlrc``).
CURLRC = "--fail-with-body\n--silent\n--show-error\n--max-time 20\n--noproxy *\n"

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
    (home / ".curlrc").write_text(CURLRC, encoding="utf-8")
    config = home / "sandbox.toml"
    environment = {**clean_environment(pycache), "CURL_HOME": str(home)}
    sandbox = Server([str(BIN / "lucca-cards"), "sandbox", "serve", *SANDBOX,
                      "--write-config", str(config), "--print-env"], cwd=home, env=environment)
    try:
        ready = sandbox.wait_ready(COMMAND_TIMEOUT)
        assert ready, redact(f"the sandbox did not start: {sandbox.lines}", ())
        # The file is written before the export lines: one line per setting it holds.
        count = sum(len(table) for table in tomllib.loads(config.read_text("utf-8")).values())
        assert sandbox.wait_for(lambda: len(sandbox.lines["stdout"]) >= count, COMMAND_TIMEOUT)
        variables = exported(sandbox.lines["stdout"][:count])
        serving = SERVING.search("".join(sandbox.lines["stderr"]))
        assert serving is not None
        used: set[int] = set()
        lock = threading.Lock()

        def free_ports() -> int:
            with lock:
                port = two_free_ports()
                while {port, port + 1} & used:
                    port = two_free_ports()
                used.update({port, port + 1})
                return port

        with Receiver().serve() as receiver:
            context = Context(
                root=root, variables={**environment, **variables}, config=config,
                sandbox_ports=(int(serving[1]), int(serving[2])), receiver=receiver.url,
                aliases=ALIASES, exempt=EXEMPT, failures=FAILURES, free_ports=free_ports,
                timeout=COMMAND_TIMEOUT, once=ONCE,
                secrets={v for k, v in variables.items() if k.endswith(("SECRET", "KEY"))})
            chosen = selected_pages(request)
            started = {page.name: PageSession(page.name, commands(page), context)
                       for page in PAGES if page.name in chosen}
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                # The longest pages first: they bound the module's time.
                for session in sorted(started.values(), key=lambda s: -len(s.commands)):
                    pool.submit(session.run)
                yield started
    finally:
        status = sandbox.stop(signal.SIGTERM)
    assert status == 0, "the module's sandbox did not exit 0 once stopped"


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


def test_every_command_is_run_or_exempt_and_lucca_cards_always_runs() -> None:
    for command in COMMANDS:
        assert (command in RUN) != (command.text in EXEMPT), command.id
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


def test_no_literal_block_hides_a_command() -> None:
    programs = {program(command.text) for command in COMMANDS} | {"lucca-cards"}
    hidden = [f"{block.page}:{block.line}" for page in PAGES for block in blocks(page)
              if block.language is None and not is_prompted(block)
              and program(block.lines[0]) in programs]
    assert hidden == [], "a :: block that shows a command: make it a console code-block"


SAMPLE = """\
Title
=====

A session::

   $ lucca-cards users preview   # the counts first
   users preview: 36 employees: 4 will be linked
   $ curl -X POST http://127.0.0.1:41231/x \\
          -d '{"a": "# not a comment"}'

.. code-block:: console

   make demo    # a listing
   # a comment line

.. code-block:: bash

   #!/bin/sh
   exec lucca-cards sync

.. code-block:: bash

   export A=1

.. code-block:: text

   lucca-cards users preview [--all]

.. code-block:: text

   $ make test
   ok

Literal::

   lucca-cards stats show x
"""


def test_commands_are_read_as_typed(tmp_path: Path) -> None:
    page = tmp_path / "sample.rst"
    page.write_text(SAMPLE, encoding="utf-8")
    found = [(c.id, c.text, c.first_output) for c in commands(page)]
    assert found == [
        ("sample.rst:6", "lucca-cards users preview", "users preview: 36 employees: 4 will "
         "be linked"),
        ("sample.rst:8", "curl -X POST http://127.0.0.1:41231/x -d '{\"a\": \"# not a comment\"}'",
         None),
        ("sample.rst:13", "make demo", None),
        ("sample.rst:23", "export A=1", None),
        ("sample.rst:31", "make test", "ok"),
    ]
    hidden = [b.line for b in blocks(page) if b.language is None and not is_prompted(b)]
    assert hidden == [36]
    assert stable_words("users  preview: 36 employees") == "users preview: "
    assert stable_words("the nightly sync: lifecycle sync: nothing to do; x") == \
        "the nightly sync: lifecycle sync: "
    assert stable_words("Reading Lucca (not paced) and Cards…") == \
        "Reading Lucca (not paced) and Cards"


def test_no_setting_nor_proxy_of_this_environment_gets_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"LUCCA_URL": "https://acme.ilucca.net", "CARDS_API_KEY": "real",
                        "LUCCA_CARDS_DATABASE": "/var/lib/lucca-cards/real.sqlite",
                        "HTTPS_PROXY": "http://proxy.example:3128",
                        "http_proxy": "http://proxy.example:3128"}.items():
        monkeypatch.setenv(name, value)
    variables = clean_environment(tmp_path)
    assert not [name for name in variables if name.startswith(SETTINGS_PREFIXES)]
    assert "proxy.example" not in " ".join(variables.values())
    assert variables["PATH"].split(os.pathsep)[0] == str(BIN)
    assert (BIN / "lucca-cards").is_file()


def test_the_stand_ins_keep_every_command_on_loopback(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.toml"
    config.write_text("", encoding="utf-8")
    context = Context(root=tmp_path, variables={"CARDS_WEBHOOK_SECRET": "it's s3cret"},
                      config=config, sandbox_ports=(1111, 2222), receiver="http://127.0.0.1:9",
                      aliases={}, exempt={}, failures=FAILURES, free_ports=lambda: 20000)
    session = PageSession("some-page.rst", [], context)
    shown = {
        "lucca-cards lucca-webhooks register --url https://hooks.acme.example/lucca":
            "lucca-cards lucca-webhooks register --url http://127.0.0.1:9/some-page/lucca",
        "curl -X DELETE http://127.0.0.1:41232/_sandbox/faults":
            "curl -X DELETE http://127.0.0.1:2222/_sandbox/faults",
        "lucca-cards sandbox serve --lucca-webhook-url http://127.0.0.1:8080/lucca":
            "lucca-cards sandbox serve --lucca-webhook-url http://127.0.0.1:20000/lucca",
        "lucca-cards webhooks serve --port 8000 --state /var/lib/lucca-cards/state.sqlite":
            f"lucca-cards webhooks serve --port 20000 --state {session.folder}/state.sqlite",
        "export CARDS_WEBHOOK_SECRET='…'": "export CARDS_WEBHOOK_SECRET='it'\"'\"'s s3cret'",
    }
    for documented, run in shown.items():
        assert session.substitute(documented) == run
        assert hosts(run) == []
    assert session.port(8001) == 20001  # 8000 and 8001 go together
    assert hosts("curl https://acme.ilucca.net/x http://[::1]:8/") == ["acme.ilucca.net"]
