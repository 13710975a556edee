"""Cards webhooks: check a request's signature, read its event.

Cards POSTs a JSON event to the URL configured in its back-office (Apps & Integrations
→ API & Webhooks). Check the signature over the **raw** body bytes first, then parse::

    from lucca_cards.cards import webhooks

    if not webhooks.verify_request(request.headers, request.get_data(), secret):
        return "", 401
    event = webhooks.parse(request.get_data())
    if isinstance(event, webhooks.TrainingActivityEvent):
        print(event.data.user.email, event.data.score.progress)

The same functions hang off a client as ``cards.webhooks`` (a :class:`Webhooks` that
knows the configured secret and header name).

Assumptions (the Cards page on signatures could not be read):

* **Signature** (gap 3): header ``Signature`` holds the lowercase hex HMAC-SHA256 of the
  raw body keyed with the webhook secret (the default of spatie/laravel-webhook-server,
  which a Laravel backend such as Cards' most likely uses). The header name is
  configurable; a ``sha256=`` prefix, surrounding blanks and uppercase hex are accepted.
* **Dates** (gap 5): ``YYYY-MM-DD HH:MM:SS`` without a zone. They are kept **naive**,
  as sent; they are most likely Europe/Paris wall-clock time, possibly UTC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .._secret import Secret, as_secret
from ..errors import ConfigurationError, ValidationError
from .models import CardsModel

#: The assumed name of the signature header (gap 3); configurable on :class:`Webhooks`.
DEFAULT_SIGNATURE_HEADER = "Signature"
_ENVELOPE_KEYS = ("id", "type", "created_at", "data")
_SIGNATURE_PREFIX = "sha256="


@attrs.frozen(kw_only=True)
class WebhookUser(CardsModel):
    """The learner who acted (a subset of :class:`~lucca_cards.cards.models.CardsUser`)."""

    id: str
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    company: str | None = None
    lang: str | None = None


@attrs.frozen(kw_only=True)
class WebhookChapter(CardsModel):
    """The chapter concerned; ``position`` is 1-based."""

    id: str
    title: str | None = None
    position: int | None = None


@attrs.frozen(kw_only=True)
class WebhookTraining(CardsModel):
    """The training concerned, with its number of chapters and the chapter acted on."""

    id: str
    title: str | None = None
    description: str | None = None
    image: str | None = None
    chapters_count: int | None = None
    chapter: WebhookChapter | None = None


@attrs.frozen(kw_only=True)
class WebhookScore(CardsModel):
    """The learner's standing in the training after the action.

    Attributes:
        points, max_points: points earned and obtainable (most likely for the whole
            training; the documented sample cannot tell).
        progress: the fraction of the training done, from 0 to 1 (0.2 = 1 chapter of 5).
    """

    points: int | None = None
    max_points: int | None = None
    progress: float | None = None


@attrs.frozen(kw_only=True)
class TrainingActivity(CardsModel):
    """The ``data`` of ``chapter-complete`` and ``quiz-complete``.

    Attributes:
        created_at: when the learner acted (naive, see the module's note on dates).
        points: points earned by this action.
    """

    created_at: datetime | None = None
    points: int | None = None
    user: WebhookUser | None = None
    training: WebhookTraining | None = None
    score: WebhookScore | None = None


@attrs.frozen(kw_only=True)
class WebhookEvent(CardsModel):
    """A Cards webhook event; also what an event of an undocumented type parses to.

    ``type`` is the event type (``chapter-complete``).

    Attributes:
        id: the event's unique id: deduplicate deliveries on it.
        created_at: when Cards sent the event (naive, see the module's note on dates).
        data: the event's payload; the raw JSON object for a type this SDK does not
            model, a typed object in the subclasses.
    """

    id: str
    type: str
    created_at: datetime | None = None
    data: Any = None


@attrs.frozen(kw_only=True)
class TrainingActivityEvent(WebhookEvent):
    """An event about a learner's activity in a training, with a typed ``data``."""

    data: TrainingActivity


@attrs.frozen(kw_only=True)
class ChapterCompleteEvent(TrainingActivityEvent):
    """``chapter-complete``: a learner finished a chapter."""


@attrs.frozen(kw_only=True)
class QuizCompleteEvent(TrainingActivityEvent):
    """``quiz-complete``: a learner finished a quiz."""


#: Event type → model; any other type parses to a plain :class:`WebhookEvent`.
EVENT_TYPES: Mapping[str, type[WebhookEvent]] = {
    "chapter-complete": ChapterCompleteEvent,
    "quiz-complete": QuizCompleteEvent,
}


def verify(body: bytes, signature: str | None, secret: str | Secret) -> bool:
    r"""Tell whether ``signature`` is the HMAC-SHA256 of ``body`` under ``secret``.

    Args:
        body: the request body exactly as received (bytes). Never a re-serialised
            object: PHP writes ``\/`` and ``\u00e9`` where Python would not, so the
            bytes would differ and a genuine request would fail.
        signature: the signature header's value (hex; ``sha256=`` prefix, blanks
            and uppercase tolerated); ``None`` or empty gives ``False``.
        secret: the webhook secret shown in the Cards back-office.

    Returns:
        ``True`` only for a matching signature (compared in constant time).

    Raises:
        TypeError: ``body`` is a ``str`` (pass the raw bytes).
        ConfigurationError: the secret is empty: anyone could sign with it.

    >>> import hashlib, hmac
    >>> body = b'{"id":"1"}'
    >>> verify(body, hmac.new(b"k", body, hashlib.sha256).hexdigest(), "k")
    True
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(
            "verify() needs the raw request body as bytes (e.g. request.get_data()), "
            f"not {type(body).__name__}: a re-encoded body may not be the signed bytes"
        )
    key = as_secret(secret)
    if not key:
        raise ConfigurationError(
            "cards_webhook_secret", "is empty; copy the webhook secret from Cards"
        )
    if not signature:
        return False
    given = signature.strip().lower().removeprefix(_SIGNATURE_PREFIX).strip()
    expected = hmac.new(key.reveal().encode(), bytes(body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | Secret,
    *,
    header: str = DEFAULT_SIGNATURE_HEADER,
) -> bool:
    """Verify a request from its headers (``header`` looked up case-insensitively).

    A request without the header is not verified (``False``).

    >>> verify_request({"content-type": "application/json"}, b"{}", "k")
    False
    """
    wanted = header.lower()
    signature = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return verify(body, signature, secret)


def parse(body: bytes | str) -> WebhookEvent:
    """Read a webhook body into its typed event.

    ``chapter-complete`` and ``quiz-complete`` give a :class:`ChapterCompleteEvent` or a
    :class:`QuizCompleteEvent`; any other type a plain :class:`WebhookEvent` (not an
    error: Cards has more events than it documents).

    Raises:
        ValidationError: the body is not JSON, not an object, lacks one of ``id``,
            ``type``, ``created_at``, ``data``, or a value has the wrong type.

    >>> parse('{"id": "e1", "type": "badge-unlocked", "created_at": "2024-01-20 09:10:00",'
    ...       ' "data": {}}').type
    'badge-unlocked'
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Cards webhook: the body is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ValidationError(
            f"Cards webhook: expected a JSON object, got {type(payload).__name__}"
        )
    missing = [key for key in _ENVELOPE_KEYS if key not in payload]
    if missing:
        raise ValidationError(
            f"Cards webhook: the event lacks {', '.join(missing)}",
            errors={key: ["is missing"] for key in missing},
        )
    return EVENT_TYPES.get(str(payload["type"]), WebhookEvent).from_api(payload)


class Webhooks:
    """Webhook helpers bound to a secret and a header name (``cards.webhooks``).

    Args:
        secret: the default webhook secret (``Settings.cards_webhook_secret``).
        signature_header: the signature header's name (assumed ``Signature``, gap 3).

    >>> hooks = Webhooks(secret="k")
    >>> hooks
    Webhooks(signature_header='Signature')
    """

    def __init__(
        self,
        *,
        secret: str | Secret | None = None,
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
    ) -> None:
        self._secret = as_secret(secret) if secret is not None else None
        self.signature_header = signature_header

    def __repr__(self) -> str:
        return f"Webhooks(signature_header={self.signature_header!r})"

    def verify(
        self, body: bytes, signature: str | None, secret: str | Secret | None = None
    ) -> bool:
        """Do :func:`verify`, with the configured secret unless ``secret`` is given."""
        return verify(body, signature, self._secret_or(secret))

    def verify_request(
        self, headers: Mapping[str, str], body: bytes, secret: str | Secret | None = None
    ) -> bool:
        """Do :func:`verify_request` with the configured header and secret."""
        return verify_request(headers, body, self._secret_or(secret), header=self.signature_header)

    def parse(self, body: bytes | str) -> WebhookEvent:
        """Do :func:`parse`."""
        return parse(body)

    def _secret_or(self, secret: str | Secret | None) -> str | Secret:
        chosen = secret if secret is not None else self._secret
        if chosen is None:
            raise ConfigurationError(
                "cards_webhook_secret",
                "is not set; pass secret=… or set CARDS_WEBHOOK_SECRET",
            )
        return chosen
