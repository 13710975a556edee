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
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from ._secret import Secret
from .cards.models import ConnectionMode
from .errors import ConfigurationError
from .lucca.training_records import StatsFieldCodes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
DEFAULT_SCOPES = "departments.readonly employees.readwrite"
DEFAULT_API_VERSION = "2024-11-01"
DEFAULT_CARDS_URL = "https://api.cards-microlearning.com/v1"
LUCCA_MAX_REQUESTS_PER_MINUTE = 50

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
    "import_notify": ("import", "notify", "CARDS_IMPORT_NOTIFY"),
    "import_connection_mode": ("import", "connection_mode", "CARDS_IMPORT_CONNECTION_MODE"),
}
# The six stats codes: [stats] field/title/…, LUCCA_STATS_FIELD/LUCCA_STATS_TITLE/…
_CODE_NAMES = ("field", "title", "link", "progress", "score", "last_completion_date")


def _where(setting: str) -> str:
    table, key, env = _SOURCES[setting]
    return f"pass {setting}=…, set {env}, or set {key} under [{table}] in the TOML file"


def _secret(value: str | Secret | None) -> Secret | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Secret) else Secret(str(value))


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _flag(value: Any) -> Any:
    text = str(value).strip().lower()
    if isinstance(value, bool) or text not in _FLAGS:
        return value
    return _FLAGS[text]


_FLAGS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
    "": False,
}


def _check_url(setting: str, url: str | None, *, root_only: bool = False) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigurationError(
            setting,
            f"{url!r} is not an http(s) URL; expected something like https://acme.ilucca.net",
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            setting,
            f"http:// is refused for {parts.hostname}: keys would travel in clear. Use https://",
        )
    if root_only and parts.path.rstrip("/").endswith(("/lucca-api", "/api/v3", "/api")):
        raise ConfigurationError(
            setting, "give the tenant's root URL (https://acme.ilucca.net), without the API path"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Converters never raise: a value they cannot convert is passed on unchanged, and the
# field's validator, which knows the setting's name, reports it.


def _number(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _mode(value: Any) -> Any:
    try:
        return ConnectionMode(value)
    except ValueError:
        return value


def _expect(kind: type, what: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise ConfigurationError(attribute.name, f"{value!r} is invalid: expected {what}")

    return validate


def _validate_rate(setting: str, value: float, maximum: float | None = None) -> None:
    if value < 0:
        raise ConfigurationError(
            setting,
            f"{value} is negative; give requests per minute (0 turns client-side throttling off)",
        )
    if maximum is not None and value > maximum:
        raise ConfigurationError(
            setting,
            f"{value} is above Lucca's limit of {maximum:g} "
            "requests per minute per tenant; use 40 or less",
        )


@attrs.frozen(kw_only=True)
class Settings:
    """The integration's configuration. Every field is optional until a client needs it.

    Secrets are held as :class:`~lucca_cards.Secret`, so ``repr(settings)`` is safe to log.

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
    """

    lucca_url: str | None = attrs.field(default=None, converter=_text)
    lucca_client_id: str | None = attrs.field(default=None, converter=_text)
    lucca_client_secret: Secret | None = attrs.field(default=None, converter=_secret)
    lucca_token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, converter=str)
    lucca_scopes: str = attrs.field(default=DEFAULT_SCOPES, converter=str)
    lucca_api_version: str = attrs.field(default=DEFAULT_API_VERSION, converter=str)
    lucca_api_key: Secret | None = attrs.field(default=None, converter=_secret)
    lucca_requests_per_minute: float = attrs.field(
        default=40.0, converter=_number, validator=_expect(float, "a number of requests per minute")
    )
    cards_tenant: str | None = attrs.field(default=None, converter=_text)
    cards_api_key: Secret | None = attrs.field(default=None, converter=_secret)
    cards_url: str = attrs.field(default=DEFAULT_CARDS_URL, converter=str)
    cards_requests_per_minute: float = attrs.field(
        default=60.0, converter=_number, validator=_expect(float, "a number of requests per minute")
    )
    cards_webhook_secret: Secret | None = attrs.field(default=None, converter=_secret)
    cards_signature_header: str = attrs.field(default="Signature", converter=str)
    stats_enabled: bool = attrs.field(
        default=False, converter=_flag, validator=_expect(bool, "true or false")
    )
    stats_codes: StatsFieldCodes = attrs.field(factory=StatsFieldCodes)
    import_notify: bool = attrs.field(
        default=False, converter=_flag, validator=_expect(bool, "true or false")
    )
    import_connection_mode: ConnectionMode = attrs.field(
        default=ConnectionMode.PASSWORD,
        converter=_mode,
        validator=_expect(ConnectionMode, "'password' or 'sso'"),
    )

    def __attrs_post_init__(self) -> None:
        _check_url("lucca_url", self.lucca_url, root_only=True)
        _check_url("lucca_token_url", self.lucca_token_url)
        _check_url("cards_url", self.cards_url)
        _validate_rate(
            "lucca_requests_per_minute",
            self.lucca_requests_per_minute,
            LUCCA_MAX_REQUESTS_PER_MINUTE,
        )
        _validate_rate("cards_requests_per_minute", self.cards_requests_per_minute)
        if not self.lucca_scopes.split():
            raise ConfigurationError("lucca_scopes", f"is empty; the default is {DEFAULT_SCOPES!r}")

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
        return cls._build({**_from_toml(Path(path)), **overrides})

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Merge a TOML file (if given), the environment, then ``overrides``; validate."""
        values = _from_toml(Path(path)) if path is not None else {}
        values.update(_from_env(os.environ if environ is None else environ))
        values.update(overrides)
        return cls._build(values)

    @classmethod
    def _build(cls, values: dict[str, Any]) -> Settings:
        codes = values.pop("stats_codes", None)
        code_values = {
            name: values.pop(f"stats_{name}") for name in _CODE_NAMES if f"stats_{name}" in values
        }
        for name, value in code_values.items():
            if not isinstance(value, str) or not value.startswith("e_") or len(value) < 3:
                raise ConfigurationError(
                    f"stats_{name}",
                    f"{value!r} is not a Lucca extended "
                    "field code; codes start with e_ (e.g. e_formation)",
                )
        if code_values or codes is None:
            codes = attrs.evolve(codes or StatsFieldCodes(), **code_values)
        unknown = sorted(set(values) - {f.name for f in attrs.fields(cls)})
        if unknown:
            raise ConfigurationError(unknown[0], "is not a setting; see Settings for the names")
        return cls(stats_codes=codes, **values)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {name: environ[env] for name, (_, _, env) in _SOURCES.items() if env in environ}
    for name in _CODE_NAMES:
        env = f"LUCCA_STATS_{name.upper()}"
        if env in environ:
            values[f"stats_{name}"] = environ[env]
    return values


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError("config file", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError("config file", f"{path} is not valid TOML: {exc}") from None
    by_place = {(table, key): name for name, (table, key, _) in _SOURCES.items()}
    by_place.update({("stats", code): f"stats_{code}" for code in _CODE_NAMES})
    values: dict[str, Any] = {}
    for table, entries in document.items():
        if not isinstance(entries, dict):
            raise ConfigurationError(table, f"{path}: expected a [{table}] table")
        for key, value in entries.items():
            name = by_place.get((table, key))
            if name is None:
                raise ConfigurationError(
                    f"[{table}] {key}",
                    f"{path}: unknown setting; see the configuration page of the docs",
                )
            values[name] = value
    return values
