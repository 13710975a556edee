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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from . import _config_sources as sources
from ._secret import Secret, without_password
from ._setting_checks import (
    DEFAULT_API_VERSION,
    DEFAULT_CARDS_URL,
    DEFAULT_SCOPES,
    DEFAULT_TOKEN_URL,
    LUCCA_MAX_REQUESTS_PER_MINUTE,
    check_setting,
    checked,
    to_count,
    to_department_scope,
    to_flag,
    to_leaver_action,
    to_mode,
    to_rate,
    to_scopes,
    to_seconds,
    to_secret,
    to_share,
    to_text,
)
from ._values import ConnectionMode, DepartmentScope, LeaverAction, StatsFieldCodes
from .errors import ConfigurationError

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_CARDS_URL", "DEFAULT_SCOPES", "DEFAULT_TOKEN_URL",
           "LUCCA_MAX_REQUESTS_PER_MINUTE", "Settings", "check_setting"]


def _number(value: float) -> str:
    """Show ``500.0`` as ``500``, as it was written; any other number as ``repr`` does."""
    return str(int(value)) if value.is_integer() else repr(value)


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
        cards_memberships_max_age: how old (seconds) the groups of an account may be when
            a join or a move writes them (300: re-read in bulk, 500 accounts a call, when
            older; 0: read the account again before each write). See "Performance and
            limits" in the docs for the trade-off.
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

    lucca_url: str | None = attrs.field(default=None, validator=checked(optional=True))
    lucca_client_id: str | None = attrs.field(
        default=None, converter=to_text, validator=checked(optional=True)
    )
    lucca_client_secret: Secret | None = attrs.field(
        default=None, converter=to_secret, validator=checked(optional=True)
    )
    lucca_token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, validator=checked())
    lucca_scopes: str = attrs.field(
        default=DEFAULT_SCOPES, converter=to_scopes, validator=checked()
    )
    lucca_api_version: str = attrs.field(
        default=DEFAULT_API_VERSION, converter=to_text, validator=checked()
    )
    lucca_api_key: Secret | None = attrs.field(
        default=None, converter=to_secret, validator=checked(optional=True)
    )
    lucca_requests_per_minute: float = attrs.field(
        default=40.0, converter=to_rate, validator=checked(),
        repr=_number,
    )
    lucca_webhook_secret: Secret | None = attrs.field(
        default=None, converter=to_secret, validator=checked(optional=True)
    )
    cards_tenant: str | None = attrs.field(
        default=None, converter=to_text, validator=checked(optional=True)
    )
    cards_api_key: Secret | None = attrs.field(
        default=None, converter=to_secret, validator=checked(optional=True)
    )
    cards_url: str = attrs.field(default=DEFAULT_CARDS_URL, validator=checked())
    cards_requests_per_minute: float = attrs.field(
        default=60.0, converter=to_rate, validator=checked(),
        repr=_number,
    )
    cards_webhook_secret: Secret | None = attrs.field(
        default=None, converter=to_secret, validator=checked(optional=True)
    )
    cards_signature_header: str = attrs.field(
        default="Signature", converter=to_text, validator=checked()
    )
    cards_memberships_max_age: float = attrs.field(
        default=300.0, converter=to_seconds, validator=checked(),
        repr=_number,
    )
    stats_enabled: bool = attrs.field(default=False, converter=to_flag, validator=checked())
    stats_codes: StatsFieldCodes = attrs.field(factory=StatsFieldCodes, validator=checked())
    stats_max_removal_share: float = attrs.field(
        default=0.1, converter=to_share, validator=checked(),
        repr=_number,
    )
    import_notify: bool = attrs.field(default=False, converter=to_flag, validator=checked())
    import_connection_mode: ConnectionMode = attrs.field(
        default=ConnectionMode.PASSWORD, converter=to_mode, validator=checked()
    )
    state_database: str = attrs.field(
        default="lucca-cards.sqlite", converter=to_text, validator=checked(),
        repr=lambda url: repr(without_password(url)),
    )
    lifecycle_leavers: LeaverAction = attrs.field(
        default=LeaverAction.REPORT, converter=to_leaver_action, validator=checked()
    )
    lifecycle_departments: DepartmentScope = attrs.field(
        default=DepartmentScope.IMPORTED, converter=to_department_scope,
        validator=checked(),
    )
    lifecycle_max_offboarded: int = attrs.field(
        default=10, converter=to_count, validator=checked()
    )
    lifecycle_max_offboarded_share: float = attrs.field(
        default=0.05, converter=to_share, validator=checked(),
        repr=_number,
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
            name: to_text(values.pop(f"stats_{name}"))
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
