"""``sandbox serve --write-config FILE`` and ``--print-env``: a running sandbox as settings.

One step points every other command at the sandbox: a TOML file for ``--config``, or the
shell's ``export`` lines. Both hold every setting the sandbox's clients need, the token
URL included (without it the SDK would ask the real Lucca for its tokens), named as
:mod:`lucca_cards.config` reads them.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._config_sources import SOURCES

#: The first line of a file ``--write-config`` wrote: such a file may be written again.
MARK = "# Written by lucca-cards sandbox serve"


def toml_text(values: Mapping[str, Any]) -> str:
    """Return the TOML of the settings ``values`` (by setting name), one table each.

    >>> print(toml_text({"lucca_url": "http://127.0.0.1:8000", "cards_requests_per_minute": 60.0}))
    # Written by lucca-cards sandbox serve: the running sandbox's URLs and credentials.
    # Use it with --config FILE; the next serve --write-config FILE replaces it.
    <BLANKLINE>
    [lucca]
    url = "http://127.0.0.1:8000"
    <BLANKLINE>
    [cards]
    requests_per_minute = 60
    <BLANKLINE>
    """
    tables: dict[str, list[str]] = {}
    for name, value in values.items():
        table, key, _ = SOURCES[name]
        tables.setdefault(table, []).append(f"{key} = {_toml_value(value)}")
    lines = [f"{MARK}: the running sandbox's URLs and credentials.",
             "# Use it with --config FILE; the next serve --write-config FILE replaces it."]
    for table, entries in tables.items():
        lines += ["", f"[{table}]", *entries]
    return "\n".join(lines) + "\n"


def env_lines(values: Mapping[str, Any]) -> str:
    """Return one shell ``export`` line per setting of ``values``, quoted for ``sh``.

    >>> print(env_lines({"lucca_url": "http://127.0.0.1:8000", "lucca_scopes": "a b"}), end="")
    export LUCCA_URL=http://127.0.0.1:8000
    export LUCCA_SCOPES='a b'
    """
    return "".join(f"export {SOURCES[name][2]}={shlex.quote(_text(value))}\n"
                   for name, value in values.items())


def overriding(environ: Mapping[str, str]) -> list[str]:
    """Return the settings' environment variables set in ``environ``: they win over a file."""
    return sorted(variable for _, _, variable in SOURCES.values() if variable in environ)


def state_path(config: Path | None) -> str:
    """Return the sandbox's own state database: beside the config file, never the real one.

    The links and the ledger a sandbox run records must not land in the deployment's
    ``lucca-cards.sqlite`` (or a ``LUCCA_CARDS_DATABASE`` it would otherwise use).
    """
    if config is None:
        return "lucca-cards-sandbox.sqlite"
    return str(config.absolute().with_name(f"{config.stem}-state.sqlite"))


def check_config_path(path: Path) -> None:
    """Refuse a path that holds a file ``--write-config`` did not write (before serving).

    Raises:
        ValueError: the file exists and is someone else's, or cannot be read.
    """
    if not path.exists():
        return
    if not path.is_file():  # a folder, a FIFO (whose read would never end), a device
        raise ValueError(f"--write-config {path}: that is not a file; choose a file's path")
    try:
        with path.open(encoding="utf-8", errors="replace") as existing:
            first = existing.readline(len(MARK) + 1)
    except OSError as error:
        raise ValueError(f"--write-config {path}: cannot read the file there "
                         f"({error.strerror or error}); choose another path") from None
    if not first.startswith(MARK):
        raise ValueError(f"--write-config {path}: a file is there that sandbox serve did not "
                         "write, and it is not replaced; choose another path (or move that "
                         "file away yourself)")


def write_config(path: Path, values: Mapping[str, Any]) -> None:
    """Write ``values`` as TOML to ``path``, readable by its owner only (it holds secrets).

    The file is written beside ``path`` and moved in place: a reader never sees half.

    Raises:
        ValueError: the file cannot be written (saying why), or is someone else's.
    """
    check_config_path(path)
    partial: Path | None = None
    try:
        # A new file of its own (exclusive, mode 600, never a link followed), then moved.
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                        suffix=".partial")
        partial = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(toml_text(values))
        os.replace(partial, path)
    except OSError as error:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise ValueError(f"--write-config {path}: cannot write it ({error.strerror or error}); "
                         "choose a path in a folder you can write to") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, (bool, int, float)):  # written as TOML writes them: true, 40, 37.5
        return _text(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string, escaped


def _text(value: Any) -> str:
    """Write a number as a person would (``60``, not ``60.0``); anything else as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
