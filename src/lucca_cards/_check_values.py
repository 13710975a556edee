"""The checks of numbers, yes/no settings and choices (rates, shares, counts, modes).

The other half of :mod:`lucca_cards._checks`, with the same contract, the
setting's name and the value in, the value normalised out or a
:class:`~lucca_cards.ConfigurationError` saying what to do.
"""

from __future__ import annotations

import enum
import math
import numbers
from typing import Any, TypeVar

from ._values import ConnectionMode, LeaverAction  # noqa: F401 (LeaverAction: doctest)
from .errors import ConfigurationError

_E = TypeVar("_E", bound=enum.Enum)

_FLAGS = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off", ""), False),
}
_RATE_HINT = (
    "give a finite number of requests per minute, e.g. 40 (0 turns client-side throttling off)"
)
_SECONDS_HINT = "give a finite number of seconds, e.g. 300 (0: read again before each write)"


def check_rate(
    setting: str, value: Any, maximum: float | None = None, *, over_maximum: str = ""
) -> float:
    """Return a number of requests per minute: a finite real number, 0 or more.

    Args:
        setting: the setting's name, for the error.
        value: what was given (an ``int`` or a ``float``; not a ``bool``, not text).
        maximum: the highest rate allowed, if any.
        over_maximum: why, and what to do, when ``value`` exceeds ``maximum``.

    Raises:
        ConfigurationError: not a number, NaN, infinite, negative, or above ``maximum``.

    >>> check_rate("cards_requests_per_minute", 30)
    30.0
    """
    rate = _amount(setting, value, "a number of requests per minute", _RATE_HINT)
    if maximum is not None and rate > maximum:
        reason = over_maximum or f"use {maximum:g} or less"
        raise ConfigurationError(setting, f"{rate:g} is above {maximum:g}: {reason}")
    return rate


def check_seconds(setting: str, value: Any) -> float:
    """Return a number of seconds: a finite real number, 0 or more.

    Raises:
        ConfigurationError: not a number, NaN, infinite or negative.

    >>> check_seconds("cards_memberships_max_age", 300)
    300.0
    """
    return _amount(setting, value, "a number of seconds", _SECONDS_HINT)


def _amount(setting: str, value: Any, unit: str, hint: str) -> float:
    """Read a finite real number, 0 or more, for ``setting``; ``hint`` says what to give."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = repr(value) if isinstance(value, (str, int, float)) else type(value).__name__
        raise ConfigurationError(setting, f"{shown[:40]} is not {unit}; {hint}")
    amount = float(value)
    if math.isnan(amount):
        raise ConfigurationError(setting, f"is NaN, not a number; {hint}")
    if math.isinf(amount):
        raise ConfigurationError(setting, f"is infinite; {hint}")
    if amount < 0:
        raise ConfigurationError(setting, f"{amount:g} is negative; {hint}")
    return amount


def check_share(setting: str, value: Any) -> float:
    """Return a share: a finite number from 0 to 1 (``0.1`` is 10 %).

    >>> check_share("stats_max_removal_share", 0.25)
    0.25
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            0 <= float(value) <= 1):  # NaN fails the comparison
        shown = repr(value) if isinstance(value, (str, int, float)) else type(value).__name__
        raise ConfigurationError(
            setting, f"{shown[:40]} is not a share from 0 to 1; give e.g. 0.1 for 10 %")
    return float(value)


def check_flag(setting: str, value: Any) -> bool:
    """Return a yes/no setting: a ``bool``, or one of the words an environment variable uses.

    ``1``, ``true``, ``yes``, ``on`` are true; ``0``, ``false``, ``no``, ``off`` and an
    empty text are false (case and surrounding blanks ignored).

    Raises:
        ConfigurationError: anything else (``"maybe"``, ``2``).

    >>> check_flag("import_notify", " Yes ")
    True
    """
    if isinstance(value, bool):
        return value
    flag = _FLAGS.get(value.strip().lower()) if isinstance(value, str) else None
    if flag is None:
        raise ConfigurationError(setting, f"{value!r} is invalid: expected true or false")
    return flag


def check_choice(setting: str, value: Any, *, choices: type[_E]) -> _E:
    """Return the member of the enumeration ``choices`` named by ``value``.

    Raises:
        ConfigurationError: ``value`` names none of them (the valid ones are listed).

    >>> check_choice("lifecycle_leavers", " Delete ", choices=LeaverAction)
    <LeaverAction.DELETE: 'delete'>
    """
    if isinstance(value, choices):
        return value
    text = value.strip().lower() if isinstance(value, str) else value
    try:
        return choices(text)
    except ValueError:
        valid = " or ".join(repr(member.value) for member in choices)
        raise ConfigurationError(
            setting, f"{value!r:.40} is invalid: expected {valid}") from None


def check_count(setting: str, value: Any) -> int:
    """Return a count: a whole number, 0 or more (text of digits, from the environment, too).

    >>> check_count("lifecycle_max_offboarded", "10")
    10
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = repr(value) if isinstance(value, (str, int, float)) else type(value).__name__
        raise ConfigurationError(setting, f"{shown[:40]} is not a whole number, 0 or more; "
                                 "give e.g. 10")
    return value


def check_connection_mode(setting: str, value: Any) -> ConnectionMode:
    """Return the :class:`~lucca_cards.ConnectionMode` named by ``value``.

    Raises:
        ConfigurationError: not ``password`` (or ``app``) or ``sso``.

    >>> check_connection_mode("import_connection_mode", "SSO")
    <ConnectionMode.SSO: 'sso'>
    """
    try:
        return ConnectionMode(value)
    except ValueError:
        raise ConfigurationError(
            setting, f"{value!r} is invalid: expected 'password' or 'sso'"
        ) from None
