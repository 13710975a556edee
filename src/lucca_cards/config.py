"""Settings: every option of the integration's configuration page, validated once.

Load them from keyword arguments, environment variables or a TOML file; later sources
win (file < environment < keywords)::

    settings = Settings.load("lucca-cards.toml")          # file, then env, then kwargs
    settings = Settings.from_env()                         # LUCCA_*, CARDS_* only
    settings = Settings(lucca_url="https://acme.ilucca.net", lucca_api_key="…")

A TOML file has four tables::

    [lucca]
    url = "https://acme.ilucca.net"
    client_id = "…"
    client_secret = "…"
    api_key = "…"

    [cards]
    tenant = "acme"
    api_key = "…"
    webhook_secret = "…"

    [stats]
    enabled = true
    field = "e_formation"

    [import]
    notify = false
    connection_mode = "sso"

Every value is checked when the settings are built (see :mod:`lucca_cards._checks` and
the configuration page of the docs): a value that cannot work raises
:class:`~lucca_cards.ConfigurationError` naming it the way it was given, the keyword
(``lucca_requests_per_minute``), the environment variable (``LUCCA_REQUESTS_PER_MINUTE``)
or the TOML key (``[lucca] requests_per_minute (LUCCA_REQUESTS_PER_MINUTE)``).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from ._checks import (
    check_connection_mode,
    check_flag,
    check_header_name,
    check_rate,
    check_scopes,
    check_secret,
    check_text,
    check_url,
)
from ._secret import Secret
from ._values import ConnectionMode, StatsFieldCodes
from .errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
DEFAULT_SCOPES = "departments.readonly employees.readwrite"
DEFAULT_API_VERSION = "2024-11-01"
DEFAULT_CARDS_URL = "https://api.cards-microlearning.com/v1"
LUCCA_MAX_REQUESTS_PER_MINUTE = 50

# The six stats codes: [stats] field/title/…, LUCCA_STATS_FIELD/LUCCA_STATS_TITLE/…
_CODE_NAMES = ("field", "title", "link", "progress", "score", "last_completion_date")
# setting name -> (TOML table, TOML key, environment variable)
_SOURCES: dict[str, tuple[str, str, str]] = {
    "lucca_url": ("lucca", "url", "LUCCA_URL"),
    "lucca_client_id": ("lucca", "client_id", "LUCCA_CLIENT_ID"),
    "lucca_client_secret": ("lucca", "client_secret", "LUCCA_CLIENT_SECRET"),
    "lucca_token_url": ("lucca", "token_url", "LUCCA_TOKEN_URL"),
    "lucca_scopes": ("lucca", "scopes", "LUCCA_SCOPES"),
    "lucca_api_version": ("lucca", "api_version", "LUCCA_API_VERSION"),
    "lucca_api_key": ("lucca", "api_key", "LUCCA_API_KEY"),
    "lucca_requests_per_minute": ("lucca", "requests_per_minute", "LUCCA_REQUESTS_PER_MINUTE"),
    "cards_tenant": ("cards", "tenant", "CARDS_TENANT"),
    "cards_api_key": ("cards", "api_key", "CARDS_API_KEY"),
    "cards_url": ("cards", "url", "CARDS_URL"),
    "cards_requests_per_minute": ("cards", "requests_per_minute", "CARDS_REQUESTS_PER_MINUTE"),
    "cards_webhook_secret": ("cards", "webhook_secret", "CARDS_WEBHOOK_SECRET"),
    "cards_signature_header": ("cards", "signature_header", "CARDS_SIGNATURE_HEADER"),
    "stats_enabled": ("stats", "enabled", "LUCCA_STATS_ENABLED"),
    **{f"stats_{c}": ("stats", c, f"LUCCA_STATS_{c.upper()}") for c in _CODE_NAMES},
    "import_notify": ("import", "notify", "CARDS_IMPORT_NOTIFY"),
    "import_connection_mode": ("import", "connection_mode", "CARDS_IMPORT_CONNECTION_MODE"),
}
_TABLES = tuple(dict.fromkeys(table for table, _, _ in _SOURCES.values()))
# "[lucca] client_secret" -> "lucca_client_secret"
_PLACES = {f"[{table}] {key}": name for name, (table, key, _) in _SOURCES.items()}

_LUCCA_LIMIT = (
    f"Lucca allows {LUCCA_MAX_REQUESTS_PER_MINUTE} requests per minute per tenant, shared "
    "with the tenant's other integrations; use 40 or less"
)
_LUCCA_KEYS, _CARDS_KEYS = "(Lucca's integration keys)", "(Cards back-office, API & Webhooks)"

Check = Callable[[str, Any], Any]


def _check_codes(setting: str, value: Any) -> StatsFieldCodes:
    if not isinstance(value, StatsFieldCodes):
        raise ConfigurationError(
            setting, f"is {type(value).__name__}; give a StatsFieldCodes(field=…, title=…)"
        )
    return value


# setting -> its check; the clients' constructors apply the same ones (check_setting).
_CHECKS: dict[str, Check] = {
    "lucca_url": partial(check_url, root_only=True),
    "lucca_client_id": partial(check_text, what=f"the OAuth client id {_LUCCA_KEYS}"),
    "lucca_client_secret": partial(check_secret, what=f"the OAuth client secret {_LUCCA_KEYS}"),
    "lucca_token_url": partial(check_url, example=DEFAULT_TOKEN_URL),
    "lucca_scopes": partial(check_scopes, what=f"the scopes (default {DEFAULT_SCOPES!r})"),
    "lucca_api_version": partial(
        check_text, what=f"the Api-Version (default {DEFAULT_API_VERSION})", header=True
    ),
    "lucca_api_key": partial(check_secret, what=f"the legacy API key {_LUCCA_KEYS}", header=True),
    "lucca_requests_per_minute": partial(
        check_rate, maximum=LUCCA_MAX_REQUESTS_PER_MINUTE, over_maximum=_LUCCA_LIMIT
    ),
    "cards_tenant": partial(check_text, what=f"the workspace id {_CARDS_KEYS}", header=True),
    "cards_api_key": partial(check_secret, what=f"the API key {_CARDS_KEYS}", header=True),
    "cards_url": partial(check_url, example=DEFAULT_CARDS_URL),
    "cards_requests_per_minute": check_rate,
    "cards_webhook_secret": partial(check_secret, what=f"the webhook secret {_CARDS_KEYS}"),
    "cards_signature_header": check_header_name,
    "stats_enabled": check_flag,
    "stats_codes": _check_codes,
    "import_notify": check_flag,
    "import_connection_mode": check_connection_mode,
}


def check_setting(setting: str, value: Any) -> Any:
    """Check ``value`` as :class:`Settings` checks ``setting``; return it normalised.

    The clients' constructors call it, so that ``CardsClient(tenant=…)`` refuses what
    ``Settings(cards_tenant=…)`` refuses, with the same message.

    Raises:
        ConfigurationError: the value cannot work; ``setting`` names it.

    >>> check_setting("cards_tenant", " acme ")
    'acme'
    """
    return _CHECKS[setting](setting, value)


def _where(setting: str) -> str:
    table, key, env = _SOURCES[setting]
    return f"pass {setting}=…, set {env}, or set {key} under [{table}] in the TOML file"


# Converters never raise: a value they cannot convert is passed on unchanged, and the
# field's validator, which knows the setting's name, reports it.


def _lenient(check: Check, value: Any) -> Any:
    if value is None:
        return None
    try:
        return check("", value)
    except ConfigurationError:
        return value


def _to_text(value: Any) -> Any:
    return _lenient(check_text, value)


def _to_secret(value: Any) -> Any:
    return _lenient(check_secret, value)


def _to_scopes(value: Any) -> Any:
    return _lenient(check_scopes, value)


def _to_rate(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    return _lenient(check_rate, value)


def _to_flag(value: Any) -> Any:
    return _lenient(check_flag, value)


def _to_mode(value: Any) -> Any:
    return _lenient(check_connection_mode, value)


def _checked(*, optional: bool = False) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None or not optional:
            check_setting(attribute.name, value)

    return validate


@attrs.frozen(kw_only=True)
class Settings:
    """The integration's configuration. Every field is optional until a client needs it.

    Secrets are held as :class:`~lucca_cards.Secret`, so ``repr(settings)`` is safe to log.
    ``None`` leaves an optional setting unset; a blank value is refused. Texts and secrets
    lose their surrounding blanks; everything else that cannot work is refused (see the
    configuration page of the docs).

    Attributes:
        lucca_url: the tenant's root URL, e.g. ``https://acme.ilucca.net``.
        lucca_client_id, lucca_client_secret: the OAuth client (Lucca API, reads).
        lucca_token_url, lucca_scopes, lucca_api_version: OAuth and API defaults.
        lucca_api_key: the legacy API key (writes statistics on employee files).
        lucca_requests_per_minute: the SDK's share of the tenant's 50/min budget.
        cards_tenant, cards_api_key, cards_url: the Cards workspace and its API key.
        cards_requests_per_minute: Cards throttle (its limit is undocumented: 60 assumed).
        cards_webhook_secret, cards_signature_header: to verify Cards webhooks.
        stats_enabled, stats_codes: whether and where statistics are published.
        import_notify, import_connection_mode: defaults of the user imports.

    Raises:
        ConfigurationError: a value cannot work; ``setting`` names it.
    """

    lucca_url: str | None = attrs.field(default=None, validator=_checked(optional=True))
    lucca_client_id: str | None = attrs.field(
        default=None, converter=_to_text, validator=_checked(optional=True)
    )
    lucca_client_secret: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_checked(optional=True)
    )
    lucca_token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, validator=_checked())
    lucca_scopes: str = attrs.field(
        default=DEFAULT_SCOPES, converter=_to_scopes, validator=_checked()
    )
    lucca_api_version: str = attrs.field(
        default=DEFAULT_API_VERSION, converter=_to_text, validator=_checked()
    )
    lucca_api_key: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_checked(optional=True)
    )
    lucca_requests_per_minute: float = attrs.field(
        default=40.0, converter=_to_rate, validator=_checked()
    )
    cards_tenant: str | None = attrs.field(
        default=None, converter=_to_text, validator=_checked(optional=True)
    )
    cards_api_key: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_checked(optional=True)
    )
    cards_url: str = attrs.field(default=DEFAULT_CARDS_URL, validator=_checked())
    cards_requests_per_minute: float = attrs.field(
        default=60.0, converter=_to_rate, validator=_checked()
    )
    cards_webhook_secret: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_checked(optional=True)
    )
    cards_signature_header: str = attrs.field(
        default="Signature", converter=_to_text, validator=_checked()
    )
    stats_enabled: bool = attrs.field(default=False, converter=_to_flag, validator=_checked())
    stats_codes: StatsFieldCodes = attrs.field(factory=StatsFieldCodes, validator=_checked())
    import_notify: bool = attrs.field(default=False, converter=_to_flag, validator=_checked())
    import_connection_mode: ConnectionMode = attrs.field(
        default=ConnectionMode.PASSWORD, converter=_to_mode, validator=_checked()
    )

    def require(self, *names: str) -> None:
        """Raise :class:`ConfigurationError` for the first of ``names`` that is not set."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigurationError(name, f"is not set; {_where(name)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``LUCCA_*`` and ``CARDS_*`` environment variables, then apply ``overrides``."""
        return cls.load(None, environ=environ, **overrides)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], **overrides: Any) -> Settings:
        """Read a TOML file (see the module docstring), then apply ``overrides``."""
        values, labels = _from_toml(Path(path))
        return cls._build({**values, **overrides}, {**labels, **{k: k for k in overrides}})

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Merge a TOML file (if given), the environment, then ``overrides``; validate.

        Raises:
            ConfigurationError: a value cannot work, named the way it was given: the TOML
                key and its environment variable, the environment variable, or the keyword.
        """
        values, labels = _from_toml(Path(path)) if path is not None else ({}, {})
        for name, value in _from_env(os.environ if environ is None else environ).items():
            values[name], labels[name] = value, _SOURCES[name][2]
        values.update(overrides)
        labels.update({name: name for name in overrides})
        return cls._build(values, labels)

    @classmethod
    def _build(cls, values: dict[str, Any], labels: Mapping[str, str]) -> Settings:
        try:
            return cls._construct(values)
        except ConfigurationError as error:
            raise _relabel(error, labels) from None

    @classmethod
    def _construct(cls, given: dict[str, Any]) -> Settings:
        # None leaves a setting to its default, as if it were not given.
        values = {name: value for name, value in given.items() if value is not None}
        codes = values.pop("stats_codes", None)
        code_values = {
            name: _to_text(values.pop(f"stats_{name}"))
            for name in _CODE_NAMES
            if f"stats_{name}" in values
        }
        if codes is None or (code_values and isinstance(codes, StatsFieldCodes)):
            codes = attrs.evolve(codes or StatsFieldCodes(), **code_values)
        names = [f.name for f in attrs.fields(cls)] + [f"stats_{c}" for c in _CODE_NAMES]
        unknown = sorted(set(values) - set(names))
        if unknown:
            close = difflib.get_close_matches(unknown[0], names, n=1)
            hint = f"did you mean {close[0]}?" if close else "see Settings for the names"
            raise ConfigurationError(unknown[0], f"is not a setting; {hint}")
        return cls(stats_codes=codes, **values)


def _relabel(error: ConfigurationError, labels: Mapping[str, str]) -> ConfigurationError:
    """Name the setting of ``error`` the way the user gave it (TOML key, variable, keyword)."""
    name = error.setting
    if name.startswith("stats_codes."):
        name = "stats_" + name.removeprefix("stats_codes.")
    label = labels.get(name, error.setting)
    return error if label == error.setting else ConfigurationError(label, error.problem)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    return {name: environ[env] for name, (_, _, env) in _SOURCES.items() if env in environ}


def _read_toml(path: Path) -> dict[str, Any]:
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


def _from_toml(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the settings of a TOML file, and how to name each one in an error."""
    values: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for table, entries in _read_toml(path).items():
        if not isinstance(entries, dict) or (table not in _TABLES and not entries):
            raise _unknown_place(path, table, None, bare=not isinstance(entries, dict))
        for key, value in entries.items():
            name = _PLACES.get(f"[{table}] {key}")
            if name is None:
                raise _unknown_place(path, table, key)
            values[name] = value
            labels[name] = f"[{table}] {key} ({_SOURCES[name][2]})"
    return values, labels


def _unknown_place(
    path: Path, table: str, key: str | None, *, bare: bool = False
) -> ConfigurationError:
    """Build the error of an unknown key or table, suggesting the closest known one."""
    tables = [f"[{t}]" for t in _TABLES]
    if bare:  # a key above every table: name the tables that hold a key of that name
        close = [p for p in _PLACES if p.endswith(f"] {table}")]
        place, problem = table, f"is outside any table in {path}"
    elif key is None:
        close = difflib.get_close_matches(f"[{table}]", tables, n=1)
        place, problem = f"[{table}]", f"is not a table of settings, in {path}"
    else:
        place, problem = f"[{table}] {key}", f"unknown setting in {path}"
        close = difflib.get_close_matches(place, list(_PLACES), n=1)
        if not close and table not in _TABLES:
            close = difflib.get_close_matches(f"[{table}]", tables, n=1)
    hint = f"did you mean {' or '.join(close)}?" if close else f"the tables are {', '.join(tables)}"
    return ConfigurationError(place, f"{problem}; {hint}")
