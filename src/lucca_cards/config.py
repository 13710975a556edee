"""Settings: every option of the integration's configuration page, validated once.

Load them from keyword arguments, environment variables or a TOML file; later sources
win (file < environment < keywords)::

    settings = Settings.load("lucca-cards.toml")          # file, then env, then kwargs
    settings = Settings.from_env()                         # LUCCA_*, CARDS_* only
    settings = Settings(lucca_url="https://acme.ilucca.net", lucca_api_key="…")

A TOML file has six tables::

    [lucca]
    url = "https://acme.ilucca.net"
    client_id = "…"
    client_secret = "…"
    api_key = "…"
    webhook_secret = "…"              # Lucca events (lucca-cards lucca-webhooks register)

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

    [state]
    database = "lucca-cards.sqlite"   # or a URL: postgresql+psycopg://…

    [lifecycle]
    leavers = "report"                # or "remove-from-groups", "delete"
    departments = "imported"          # or "all", "none"

Every value is checked when the settings are built (see :mod:`lucca_cards._checks` and
the configuration page of the docs): a value that cannot work raises
:class:`~lucca_cards.ConfigurationError` naming it the way it was given, the keyword
(``lucca_requests_per_minute``), the environment variable (``LUCCA_REQUESTS_PER_MINUTE``)
or the TOML key (``[lucca] requests_per_minute (LUCCA_REQUESTS_PER_MINUTE)``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from . import _config_sources as sources
from ._check_values import (
    check_choice,
    check_connection_mode,
    check_count,
    check_flag,
    check_rate,
    check_share,
)
from ._checks import check_header_name, check_scopes, check_secret, check_text, check_url
from ._secret import Secret, without_password
from ._values import ConnectionMode, DepartmentScope, LeaverAction, StatsFieldCodes
from .errors import ConfigurationError

DEFAULT_TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
DEFAULT_SCOPES = "departments.readonly employees.readwrite"
DEFAULT_API_VERSION = "2024-11-01"
DEFAULT_CARDS_URL = "https://api.cards-microlearning.com/v1"
LUCCA_MAX_REQUESTS_PER_MINUTE = 50

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
    "lucca_webhook_secret": partial(
        check_secret, what="the webhook endpoint's secret (lucca-cards lucca-webhooks register)"
    ),
    "cards_tenant": partial(check_text, what=f"the workspace id {_CARDS_KEYS}", header=True),
    "cards_api_key": partial(check_secret, what=f"the API key {_CARDS_KEYS}", header=True),
    "cards_url": partial(check_url, example=DEFAULT_CARDS_URL),
    "cards_requests_per_minute": check_rate,
    "cards_webhook_secret": partial(check_secret, what=f"the webhook secret {_CARDS_KEYS}"),
    "cards_signature_header": check_header_name,
    "stats_enabled": check_flag,
    "stats_codes": _check_codes,
    "stats_max_removal_share": check_share,
    "import_notify": check_flag,
    "import_connection_mode": check_connection_mode,
    "state_database": partial(check_text, what="the state database (a file path or a URL)"),
    "lifecycle_leavers": partial(check_choice, choices=LeaverAction),
    "lifecycle_departments": partial(check_choice, choices=DepartmentScope),
    "lifecycle_max_offboarded": check_count,
    "lifecycle_max_offboarded_share": check_share,
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
    return _lenient(check_rate, _number(value))


def _to_share(value: Any) -> Any:
    return _lenient(check_share, _number(value))


def _number(value: Any) -> Any:
    """Read a number from the environment's text; leave anything else to the check."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _to_flag(value: Any) -> Any:
    return _lenient(check_flag, value)


def _to_mode(value: Any) -> Any:
    return _lenient(check_connection_mode, value)


def _to_leaver_action(value: Any) -> Any:
    return _lenient(partial(check_choice, choices=LeaverAction), value)


def _to_department_scope(value: Any) -> Any:
    return _lenient(partial(check_choice, choices=DepartmentScope), value)


def _to_count(value: Any) -> Any:
    return _lenient(check_count, value)


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
        lucca_webhook_secret: to verify Lucca's webhook events (``/lucca`` of the receiver).
        cards_tenant, cards_api_key, cards_url: the Cards workspace and its API key.
        cards_requests_per_minute: Cards throttle (its limit is undocumented: 60 assumed).
        cards_webhook_secret, cards_signature_header: to verify Cards webhooks.
        stats_enabled, stats_codes: whether and where statistics are published.
        stats_max_removal_share: the share of employee files a publish may remove
            occurrences from before it stops and asks to be forced (0.1).
        state_database: the state database (links, training ledger): a file path or a
            SQLAlchemy URL; its password never shows in a repr.
        import_notify, import_connection_mode: defaults of the user imports.
        lifecycle_leavers: what happens to a leaver's account (:class:`LeaverAction`;
            ``report`` by default: nothing is written).
        lifecycle_departments: whose department groups hires and movers join and leave
            (:class:`DepartmentScope`; ``imported`` by default).
        lifecycle_max_offboarded, lifecycle_max_offboarded_share: a run that would
            offboard more than both (10 accounts and 5 % of the linked ones) stops
            before writing, unless forced.

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
    lucca_webhook_secret: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_checked(optional=True)
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
    stats_max_removal_share: float = attrs.field(
        default=0.1, converter=_to_share, validator=_checked()
    )
    import_notify: bool = attrs.field(default=False, converter=_to_flag, validator=_checked())
    import_connection_mode: ConnectionMode = attrs.field(
        default=ConnectionMode.PASSWORD, converter=_to_mode, validator=_checked()
    )
    state_database: str = attrs.field(
        default="lucca-cards.sqlite", converter=_to_text, validator=_checked(),
        repr=lambda url: repr(without_password(url)),
    )
    lifecycle_leavers: LeaverAction = attrs.field(
        default=LeaverAction.REPORT, converter=_to_leaver_action, validator=_checked()
    )
    lifecycle_departments: DepartmentScope = attrs.field(
        default=DepartmentScope.IMPORTED, converter=_to_department_scope,
        validator=_checked(),
    )
    lifecycle_max_offboarded: int = attrs.field(
        default=10, converter=_to_count, validator=_checked()
    )
    lifecycle_max_offboarded_share: float = attrs.field(
        default=0.05, converter=_to_share, validator=_checked()
    )

    def require(self, *names: str) -> None:
        """Raise :class:`ConfigurationError` for the first of ``names`` that is not set."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigurationError(name, f"is not set; {sources.where(name)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``LUCCA_*`` and ``CARDS_*`` environment variables, then apply ``overrides``."""
        return cls.load(None, environ=environ, **overrides)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], **overrides: Any) -> Settings:
        """Read a TOML file (see the module docstring), then apply ``overrides``."""
        values, labels = sources.from_toml(Path(path))
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
        values, labels = sources.from_toml(Path(path)) if path is not None else ({}, {})
        for name, value in sources.from_env(os.environ if environ is None else environ).items():
            values[name], labels[name] = value, sources.SOURCES[name][2]
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
            for name in sources.CODE_NAMES
            if f"stats_{name}" in values
        }
        if codes is None or (code_values and isinstance(codes, StatsFieldCodes)):
            codes = attrs.evolve(codes or StatsFieldCodes(), **code_values)
        names = [f.name for f in attrs.fields(cls)] + [f"stats_{c}" for c in sources.CODE_NAMES]
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
