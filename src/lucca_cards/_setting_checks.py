"""How every setting is checked and normalised: one check per setting, shared.

:class:`~lucca_cards.config.Settings` validates its fields with these checks, and the
clients' constructors call :func:`check_setting`, so ``CardsClient(tenant=…)`` refuses
what ``Settings(cards_tenant=…)`` refuses, with the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import attrs

from ._check_values import (
    check_choice,
    check_connection_mode,
    check_count,
    check_flag,
    check_rate,
    check_seconds,
    check_share,
)
from ._checks import check_header_name, check_scopes, check_secret, check_text, check_url
from ._values import DepartmentScope, LeaverAction, StatsFieldCodes
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
    "cards_memberships_max_age": check_seconds,
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


def _number(value: Any) -> Any:
    """Read a number from the environment's text; leave anything else to the check."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# Converters: the value as its check normalises it, or as given when refused (the
# validator then refuses it, naming the setting). Named functions: mypy's attrs plugin
# reads no other converter.
def to_text(value: Any) -> Any:
    return _lenient(check_text, value)


def to_secret(value: Any) -> Any:
    return _lenient(check_secret, value)


def to_scopes(value: Any) -> Any:
    return _lenient(check_scopes, value)


def to_rate(value: Any) -> Any:
    return _lenient(check_rate, _number(value))


def to_seconds(value: Any) -> Any:
    return _lenient(check_seconds, _number(value))


def to_share(value: Any) -> Any:
    return _lenient(check_share, _number(value))


def to_flag(value: Any) -> Any:
    return _lenient(check_flag, value)


def to_mode(value: Any) -> Any:
    return _lenient(check_connection_mode, value)


def to_leaver_action(value: Any) -> Any:
    return _lenient(partial(check_choice, choices=LeaverAction), value)


def to_department_scope(value: Any) -> Any:
    return _lenient(partial(check_choice, choices=DepartmentScope), value)


def to_count(value: Any) -> Any:
    return _lenient(check_count, value)


def checked(*, optional: bool = False) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None or not optional:
            check_setting(attribute.name, value)

    return validate
