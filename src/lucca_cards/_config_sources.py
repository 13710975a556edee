"""Where settings come from: the environment variables and the tables of a TOML file.

One table, :data:`SOURCES`, names each setting's TOML table, key and environment
variable; reading either source, and the errors about a file (unreadable, not UTF-8, not
TOML, an unknown key or table with the closest known one), live here.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# The six stats codes: [stats] field/title/…, LUCCA_STATS_FIELD/LUCCA_STATS_TITLE/…
CODE_NAMES = ("field", "title", "link", "progress", "score", "last_completion_date")
# setting name -> (TOML table, TOML key, environment variable)
SOURCES: dict[str, tuple[str, str, str]] = {
    "lucca_url": ("lucca", "url", "LUCCA_URL"),
    "lucca_client_id": ("lucca", "client_id", "LUCCA_CLIENT_ID"),
    "lucca_client_secret": ("lucca", "client_secret", "LUCCA_CLIENT_SECRET"),
    "lucca_token_url": ("lucca", "token_url", "LUCCA_TOKEN_URL"),
    "lucca_scopes": ("lucca", "scopes", "LUCCA_SCOPES"),
    "lucca_api_version": ("lucca", "api_version", "LUCCA_API_VERSION"),
    "lucca_api_key": ("lucca", "api_key", "LUCCA_API_KEY"),
    "lucca_requests_per_minute": ("lucca", "requests_per_minute", "LUCCA_REQUESTS_PER_MINUTE"),
    "lucca_webhook_secret": ("lucca", "webhook_secret", "LUCCA_WEBHOOK_SECRET"),
    "cards_tenant": ("cards", "tenant", "CARDS_TENANT"),
    "cards_api_key": ("cards", "api_key", "CARDS_API_KEY"),
    "cards_url": ("cards", "url", "CARDS_URL"),
    "cards_requests_per_minute": ("cards", "requests_per_minute", "CARDS_REQUESTS_PER_MINUTE"),
    "cards_webhook_secret": ("cards", "webhook_secret", "CARDS_WEBHOOK_SECRET"),
    "cards_signature_header": ("cards", "signature_header", "CARDS_SIGNATURE_HEADER"),
    "cards_memberships_max_age": ("cards", "memberships_max_age", "CARDS_MEMBERSHIPS_MAX_AGE"),
    "stats_enabled": ("stats", "enabled", "LUCCA_STATS_ENABLED"),
    "stats_max_removal_share": ("stats", "max_removal_share", "LUCCA_STATS_MAX_REMOVAL_SHARE"),
    **{f"stats_{c}": ("stats", c, f"LUCCA_STATS_{c.upper()}") for c in CODE_NAMES},
    "import_notify": ("import", "notify", "CARDS_IMPORT_NOTIFY"),
    "import_connection_mode": ("import", "connection_mode", "CARDS_IMPORT_CONNECTION_MODE"),
    "state_database": ("state", "database", "LUCCA_CARDS_DATABASE"),
    "lifecycle_leavers": ("lifecycle", "leavers", "LUCCA_CARDS_LEAVERS"),
    "lifecycle_departments": ("lifecycle", "departments", "LUCCA_CARDS_LIFECYCLE_DEPARTMENTS"),
    "lifecycle_max_offboarded": ("lifecycle", "max_offboarded", "LUCCA_CARDS_MAX_OFFBOARDED"),
    "lifecycle_max_offboarded_share": ("lifecycle", "max_offboarded_share",
                                       "LUCCA_CARDS_MAX_OFFBOARDED_SHARE"),
}
TABLES = tuple(dict.fromkeys(table for table, _, _ in SOURCES.values()))
# "[lucca] client_secret" -> "lucca_client_secret"
PLACES = {f"[{table}] {key}": name for name, (table, key, _) in SOURCES.items()}


def where(setting: str) -> str:
    """Say the three ways to set ``setting`` (for an error about a missing one)."""
    table, key, env = SOURCES[setting]
    return f"pass {setting}=…, set {env}, or set {key} under [{table}] in the TOML file"


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read the settings set in ``environ``, by setting name."""
    return {name: environ[env] for name, (_, _, env) in SOURCES.items() if env in environ}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse the TOML file at ``path``; raise ``ConfigurationError`` for what is not."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError("config file", f"cannot read {path}: {exc.strerror}") from None
    try:
        # utf-8-sig: a byte-order mark, as some Windows editors write, is not an error.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            "config file",
            f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8, which TOML requires",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError("config file", f"{path} is not valid TOML: {exc}") from None


def from_toml(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the settings of a TOML file, and how to name each one in an error."""
    values: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for table, entries in read_toml(path).items():
        if not isinstance(entries, dict) or (table not in TABLES and not entries):
            raise unknown_place(path, table, None, bare=not isinstance(entries, dict))
        for key, value in entries.items():
            name = PLACES.get(f"[{table}] {key}")
            if name is None:
                raise unknown_place(path, table, key)
            values[name] = value
            labels[name] = f"[{table}] {key} ({SOURCES[name][2]})"
    return values, labels


def unknown_place(
    path: Path, table: str, key: str | None, *, bare: bool = False
) -> ConfigurationError:
    """Build the error of an unknown key or table, suggesting the closest known one."""
    tables = [f"[{t}]" for t in TABLES]
    if bare:  # a key above every table: name the tables that hold a key of that name
        close = [p for p in PLACES if p.endswith(f"] {table}")]
        place, problem = table, f"is outside any table in {path}"
    elif key is None:
        close = difflib.get_close_matches(f"[{table}]", tables, n=1)
        place, problem = f"[{table}]", f"is not a table of settings, in {path}"
    else:
        place, problem = f"[{table}] {key}", f"unknown setting in {path}"
        close = difflib.get_close_matches(place, list(PLACES), n=1)
        if not close and table not in TABLES:
            close = difflib.get_close_matches(f"[{table}]", tables, n=1)
    hint = f"did you mean {' or '.join(close)}?" if close else f"the tables are {', '.join(tables)}"
    return ConfigurationError(place, f"{problem}; {hint}")

