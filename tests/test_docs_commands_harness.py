"""The harness of ``test_docs_commands.py`` itself: how it reads and rewrites commands.

What it reads as a command, what it keeps out of the commands' environment, and the
stand-ins that keep every command on loopback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docs_commands.environment import BIN, clean_environment
from docs_commands.expect import SETTINGS_PREFIXES, hosts, stable_words
from docs_commands.extract import blocks, commands, is_prompted
from docs_commands.session import Context, PageSession
from test_docs_commands import FAILURES, SYNOPSIS

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


MARKDOWN = """\
# Title

```console
lucca-cards users preview   # a comment
```

  ~~~bash title="x"
  export A=1
  ~~~

````text
```
not a fence's end
````
"""


def test_markdown_fences_are_read_as_blocks(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(MARKDOWN, encoding="utf-8")
    assert [(b.line, b.language, b.lines) for b in blocks(page)] == [
        (4, "console", ("lucca-cards users preview   # a comment",)),
        (8, "bash", ("export A=1",)),
        (12, "text", ("```", "not a fence's end"))]
    assert [(c.id, c.text) for c in commands(page)] == [
        ("README.md:4", "lucca-cards users preview"), ("README.md:8", "export A=1")]
    page.write_text("```console\nmake demo\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"README\.md:1: a fence \(```\) is never closed"):
        list(blocks(page))


@pytest.mark.parametrize(("line", "synopsis"), [
    ("lucca-cards sync --max-minutes 120", False),
    ("lucca-cards users preview       [--all | --employee ID…]", True),
    ("lucca-cards users import        (--all | --employee ID…)", True),
    ("lucca-cards demo                a tour of the integration on the sandbox", True),
    ("curl -X POST http://127.0.0.1:41231/x", False),
])
def test_a_synopsis_is_told_from_a_command_to_type(line: str, synopsis: bool) -> None:
    assert bool(SYNOPSIS.search(line)) is synopsis
