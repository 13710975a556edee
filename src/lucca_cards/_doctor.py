"""``lucca-cards doctor``: check a configuration against the tenants, one finding per check.

Each check makes at most one or two small reads (never a write) and ends in a
:class:`Check`: passed, failed with what to do, or skipped with why. A check that needs an
earlier one (the reads need the token; the training field needs the API key) is skipped
when that one failed, rather than failing again for the same reason.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .cards.client import CardsClient
from .config import Settings
from .errors import (
    AuthenticationError,
    ConfigurationError,
    LuccaCardsError,
    PermissionDeniedError,
    without_advice,
)
from .lucca.client import LuccaOAuthClient
from .lucca.legacy import LuccaLegacyApiClient


class CheckStatus(str, enum.Enum):
    """How a check ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@attrs.frozen(kw_only=True)
class Check:
    """One check of :func:`diagnose`.

    Attributes:
        name: what was checked ("Lucca token" …).
        status: passed, failed or skipped.
        detail: what was found (a failure's error, without its advice).
        fix: what to do, for a failed check (and why, for a skipped one).
    """

    name: str
    status: CheckStatus
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the check as JSON-ready data."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail,
                "fix": self.fix}


#: What to do when each read is refused, by the kind of refusal.
_FIXES = {
    "token": "check [lucca] client_id and client_secret (LUCCA_CLIENT_ID, "
             "LUCCA_CLIENT_SECRET), that [lucca] token_url is your region's token "
             "endpoint, and that Lucca grants the API client the scopes [lucca] scopes asks",
    "lucca": "grant the API client the scope of this read in Lucca (its integration key), "
             "or check [lucca] url (LUCCA_URL): your tenant's address",
    "legacy": "check [lucca] api_key (LUCCA_API_KEY), and give that key the right to read "
              "users with their extended data in Lucca's API keys page",
    "cards": "check [cards] api_key and tenant (CARDS_API_KEY, CARDS_TENANT): the key and "
             "workspace shown in Cards' integration settings, and [cards] url (CARDS_URL)",
}


def diagnose(settings: Settings) -> list[Check]:
    """Run every check of ``settings`` against its tenants; return one :class:`Check` each.

    Never raises for what it finds; reads only.

    >>> [c.status.value for c in diagnose(Settings())][:2]  # doctest: +SKIP
    ['failed', 'skipped']
    """
    return list(_checks(settings))


def _checks(settings: Settings) -> Iterator[Check]:
    with contextlib.ExitStack() as clients:
        def opened(build: Callable[[], Any]) -> Any:
            client = _client(build)
            return client if isinstance(client, Check) else clients.enter_context(client)

        lucca = opened(lambda: LuccaOAuthClient.from_settings(settings))
        token = _lucca_token(lucca, settings)
        yield token
        for name, read in (("Lucca employees", lambda c: c.employees.list().first()),
                           ("Lucca departments", lambda c: c.departments.list().first())):
            yield _after(token, name, functools.partial(_read, lucca, read, "lucca",
                                                        "readable"))
        legacy = opened(lambda: LuccaLegacyApiClient.from_settings(settings))
        if settings.lucca_api_key is None and not settings.stats_enabled:
            key = Check(name="Lucca API key", status=CheckStatus.SKIPPED,
                        detail="not set: needed only for the training statistics",
                        fix="set [lucca] api_key (LUCCA_API_KEY) to publish them")
        else:
            key = attrs.evolve(_read(legacy, lambda c: c.users.list(
                fields="id,extendedData", page_size=1).first(), "legacy",
                "reads users with their extended data"), name="Lucca API key")
        yield key
        yield _training_field(settings, legacy, key)
        cards = opened(lambda: CardsClient.from_settings(settings))
        yield attrs.evolve(_read(cards, lambda c: c.trainings.list().first(), "cards",
                                 f"key and tenant {settings.cards_tenant!r} accepted"),
                           name="Cards API key and tenant")
        yield from _secrets(settings)


def _client(build: Callable[[], Any]) -> Any:
    """Build a client, or the failed check of the settings it lacks."""
    try:
        return build()
    except ConfigurationError as error:
        return _refused("", error)


def _lucca_token(lucca: Any, settings: Settings) -> Check:
    name = "Lucca token"
    if isinstance(lucca, Check):
        return attrs.evolve(lucca, name=name)
    try:
        lucca.auth.headers()
    except LuccaCardsError as error:
        return _failed(name, error, "token")
    return Check(name=name, status=CheckStatus.PASSED,
                 detail=f"obtained from {settings.lucca_token_url} for the scopes "
                        f"{settings.lucca_scopes!r}")


def _read(client: Any, read: Callable[[Any], object], kind: str, passed: str) -> Check:
    """Make one read with ``client``: passed, or failed with the fix of ``kind``."""
    if isinstance(client, Check):
        return client
    try:
        read(client)
    except LuccaCardsError as error:
        return _failed("", error, kind)
    return Check(name="", status=CheckStatus.PASSED, detail=passed)


def _after(needed: Check, name: str, check: Callable[[], Check]) -> Check:
    """Run ``check`` if ``needed`` passed; else skip it, saying which check to fix first."""
    if needed.status is not CheckStatus.PASSED:
        return Check(name=name, status=CheckStatus.SKIPPED, detail=f"needs the {needed.name}",
                     fix=f"fix the {needed.name} first")
    return attrs.evolve(check(), name=name)


def _training_field(settings: Settings, legacy: Any, key: Check) -> Check:
    codes = settings.stats_codes
    name = f"Training field {codes.field}"
    if not settings.stats_enabled:
        return Check(name=name, status=CheckStatus.SKIPPED, detail="statistics are switched off",
                     fix="[stats] enabled = true (LUCCA_STATS_ENABLED=1) publishes them")

    def check() -> Check:
        try:
            legacy.field_definitions.check_stats_codes(codes)
        except ConfigurationError as error:  # names the code missing and the setup step
            return _refused(name, error)
        except LuccaCardsError as error:
            return _failed(name, error, "legacy")
        parts = ", ".join((codes.title, codes.link, codes.progress, codes.score,
                           codes.last_completion_date))
        return Check(name=name, status=CheckStatus.PASSED, detail=f"exists, with {parts}")

    return _after(key, name, check)


def _secrets(settings: Settings) -> Iterator[Check]:
    if settings.cards_webhook_secret is not None:
        yield Check(name="Cards webhook secret", status=CheckStatus.PASSED, detail="set")
    else:
        yield Check(
            name="Cards webhook secret",
            status=CheckStatus.FAILED if settings.stats_enabled else CheckStatus.SKIPPED,
            detail="not set: the receiver cannot tell Cards' signed webhooks (the training "
                   "statistics) from forgeries",
            fix="set [cards] webhook_secret (CARDS_WEBHOOK_SECRET) to the secret Cards shows "
                "beside your webhook URL")
    if settings.lucca_webhook_secret is not None:
        yield Check(name="Lucca webhook secret", status=CheckStatus.PASSED, detail="set")
    else:
        yield Check(name="Lucca webhook secret", status=CheckStatus.SKIPPED,
                    detail="not set: needed only for real-time provisioning",
                    fix="lucca-cards lucca-webhooks register prints it; set it as [lucca] "
                        "webhook_secret (LUCCA_WEBHOOK_SECRET)")


def _refused(name: str, error: ConfigurationError) -> Check:
    """Return the failed check of a setting missing or wrong: the error, then its advice."""
    text = str(error)
    found, _, advice = text.partition(" What to do: ")
    if not advice:  # "setting: what is wrong; how to set it"
        found, _, advice = text.partition("; ")
    return Check(name=name, status=CheckStatus.FAILED, detail=found.rstrip(". "),
                 fix=advice.rstrip(".") or None)


def _failed(name: str, error: LuccaCardsError, kind: str) -> Check:
    refused = isinstance(error, (AuthenticationError, PermissionDeniedError))
    fix = _FIXES[kind] if refused else f"{without_advice(str(error))}: retry later; if it " \
        "persists, check the URL settings and the network (a proxy in HTTPS_PROXY?)"
    return Check(name=name, status=CheckStatus.FAILED, detail=without_advice(str(error)),
                 fix=fix)
