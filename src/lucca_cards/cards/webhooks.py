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

Inputs: forgiving where frameworks differ, strict where the sender could lie.

* :func:`verify` takes the signature as ``str`` or ``bytes`` (a non-ASCII one is simply
  ``False``); a blank secret is a :class:`~lucca_cards.ConfigurationError`.
  :func:`verify_request` takes any mapping of headers or ``(name, value)`` pairs
  (``bytes`` ones too, as ASGI gives them); two different signature headers are
  ``False``.
* :func:`parse` refuses (:class:`~lucca_cards.ValidationError`, naming the field) a body
  over :data:`MAX_BODY_BYTES`, not UTF-8, with ``NaN``/``Infinity``, an id that is not a
  string or a number, a progress that is not a finite number from 0 to 1 (see
  :mod:`lucca_cards.cards._webhook_input`).
* Size: :func:`verify` hashes whatever body it is given (HMAC is linear and needs no
  more memory than the body the caller already holds); the limit belongs where the body
  is read. A receiver refuses a ``Content-Length`` over :data:`MAX_BODY_BYTES` with 413
  before reading, and reads no more than that; :func:`parse` refuses a larger body with
  :class:`BodyTooLargeError`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import attrs

from .._headers import header_values
from .._secret import Secret, as_secret
from ..errors import ConfigurationError, ValidationError
from ._webhook_input import (
    as_bytes,
    check_activity,
    check_envelope,
    read_json,
    signature_text,
)
from .models import CardsModel

#: The assumed name of the signature header (gap 3); configurable on :class:`Webhooks`.
DEFAULT_SIGNATURE_HEADER = "Signature"
#: The largest webhook body accepted (1 MiB): a Cards event is a few hundred bytes. A
#: receiver answers 413 above it without reading further; :func:`parse` refuses more.
MAX_BODY_BYTES = 1024 * 1024

#: ``bytes``, ``bytearray`` or ``memoryview``: the raw body.
Body = bytes | bytearray | memoryview


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


def verify(body: Body, signature: str | bytes | None, secret: str | Secret) -> bool:
    r"""Tell whether ``signature`` is the HMAC-SHA256 of ``body`` under ``secret``.

    Args:
        body: the request body exactly as received (bytes). Never a re-serialised
            object: PHP writes ``\/`` and ``\u00e9`` where Python would not, so the
            bytes would differ and a genuine request would fail. Any size is hashed (see
            the module's note on size: bound what you read, not what you hash).
        signature: the signature header's value, ``str`` or ``bytes`` (hex; ``sha256=``
            prefix, blanks and uppercase tolerated); ``None``, blank or non-ASCII gives
            ``False``, never an exception.
        secret: the webhook secret shown in the Cards back-office (``str`` or
            :class:`~lucca_cards.Secret`).

    Returns:
        ``True`` only for a matching signature (compared in constant time).

    Raises:
        TypeError: ``body`` is a ``str`` (pass the raw bytes), ``signature`` is neither
            text nor bytes, or ``secret`` is neither a ``str`` nor a ``Secret``.
        ConfigurationError: the secret is missing, empty or blank: anyone could sign
            with it.

    >>> import hashlib, hmac
    >>> body = b'{"id":"1"}'
    >>> verify(body, hmac.new(b"k", body, hashlib.sha256).hexdigest(), "k")
    True
    >>> verify(body, b"SHA256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest().encode(), "k")
    True
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(
            "verify() needs the raw request body as bytes (e.g. request.get_data()), "
            f"not {type(body).__name__}: a re-encoded body may not be the signed bytes"
        )
    key = _key(secret)
    given = signature_text(signature)
    if given is None:
        return False
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)  # both ASCII: signature_text made sure


def _key(secret: object) -> bytes:
    """Return the secret's bytes; refuse a missing, blank or mistyped one."""
    if secret is None:
        raise ConfigurationError(
            "cards_webhook_secret", "is not set; pass secret=… or set CARDS_WEBHOOK_SECRET")
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if not isinstance(value, str):
        hint = " (decode it first)" if isinstance(value, (bytes, bytearray)) else ""
        raise TypeError("the webhook secret must be a str or a lucca_cards.Secret, not "
                        f"{type(value).__name__}{hint}")
    if not value.strip():  # blank: as good as none, anyone could sign with it
        raise ConfigurationError(
            "cards_webhook_secret", "is empty or blank; copy the webhook secret from Cards")
    return value.encode("utf-8")


def verify_request(
    headers: object,
    body: Body,
    secret: str | Secret,
    *,
    header: str = DEFAULT_SIGNATURE_HEADER,
) -> bool:
    """Verify a request from its headers (``header`` looked up case-insensitively).

    ``headers`` may be any mapping (``dict``, werkzeug ``Headers``, requests'
    ``CaseInsensitiveDict``, Django's ``request.headers``, a WSGI environ) or an iterable
    of ``(name, value)`` pairs, as ``str`` or as ``bytes`` (WSGI, ASGI). A request without
    the header is not verified (``False``); nor is one that carries it twice with two
    different values (which one did Cards send?). The same value twice is fine.

    Raises:
        TypeError: ``headers`` is neither a mapping nor pairs (or see :func:`verify`).
        ConfigurationError: as :func:`verify`.

    >>> verify_request({"content-type": "application/json"}, b"{}", "k")
    False
    >>> verify_request([(b"signature", b"a"), (b"Signature", b"b")], b"{}", "k")
    False
    """
    values = header_values(headers, header)
    distinct = {signature_text(value) for value in values}  # TypeError for a non-text value
    if len(distinct) > 1:  # ambiguous: checked like a missing header, after the secret
        _key(secret)
        return False
    first = cast("str | bytes | None", values[0] if values else None)
    return verify(body, first, secret)


def parse(body: Body | str, *, max_bytes: int | None = MAX_BODY_BYTES) -> WebhookEvent:
    """Read a webhook body into its typed event.

    ``chapter-complete`` and ``quiz-complete`` give a :class:`ChapterCompleteEvent` or a
    :class:`QuizCompleteEvent`; any other type a plain :class:`WebhookEvent` (not an
    error: Cards has more events than it documents). Ids given as numbers become text.

    Args:
        body: the request body (bytes, or text).
        max_bytes: the largest body accepted, in bytes (``None``: no limit).

    Raises:
        BodyTooLargeError: the body has more than ``max_bytes`` bytes (a
            :class:`~lucca_cards.ValidationError`; a receiver answers 413).
        ValidationError: the body is not UTF-8, not JSON (``NaN`` and ``Infinity`` are
            not JSON), not an object, lacks one of ``id``, ``type``, ``created_at``,
            ``data``, or a value has the wrong type: an id that is not a string or a
            number, a progress that is not a finite number from 0 to 1… ``errors``
            names each field at fault (``data.score.progress``).
        TypeError: ``body`` is neither bytes nor text.

    >>> parse('{"id": 7, "type": "badge-unlocked", "created_at": "2024-01-20 09:10:00",'
    ...       ' "data": {}}').id
    '7'
    """
    raw = as_bytes(body)
    if max_bytes is not None and len(raw) > max_bytes:
        raise BodyTooLargeError(len(raw), max_bytes)
    payload = check_envelope(read_json(raw))
    model = EVENT_TYPES.get(payload["type"], WebhookEvent)
    if issubclass(model, TrainingActivityEvent):
        payload["data"] = check_activity(payload["data"], model.__name__)
    try:
        return model.from_api(payload)
    except ValidationError as error:
        # The models' message speaks of a server's answer and an API version: wrong here.
        problem = str(error).split(": ", 1)[-1].split(". What to do", 1)[0]
        failed = ValidationError(f"Cards webhook: the {payload['type']!r} event cannot be "
                                 f"read: {problem}", errors=error.errors)
    raise failed


class BodyTooLargeError(ValidationError):
    """The webhook body is larger than the limit; a receiver answers 413 for it.

    Attributes:
        size: the body's size in bytes.
        max_bytes: the limit it exceeds.
    """

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(
            f"Cards webhook: the body has {size} bytes, more than the limit of {max_bytes} "
            "bytes (MAX_BODY_BYTES); a Cards event is a few hundred bytes",
            errors={"body": [f"is larger than {max_bytes} bytes"]},
        )
        self.size, self.max_bytes = size, max_bytes


class Webhooks:
    """Webhook helpers bound to a secret, a header name and a size limit (``cards.webhooks``).

    Args:
        secret: the default webhook secret (``Settings.cards_webhook_secret``); checked
            when used, so a client without one can still be built.
        signature_header: the signature header's name (assumed ``Signature``, gap 3).
        max_bytes: the largest body :meth:`parse` accepts (:data:`MAX_BODY_BYTES`); a
            receiver refuses a larger ``Content-Length`` with 413 before reading.

    >>> hooks = Webhooks(secret="k")
    >>> hooks
    Webhooks(signature_header='Signature')
    """

    def __init__(
        self,
        *,
        secret: str | Secret | None = None,
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
        max_bytes: int | None = MAX_BODY_BYTES,
    ) -> None:
        if secret is not None and not isinstance(secret, (str, Secret)):
            _key(secret)  # raises the TypeError that says what to pass
        self._secret = as_secret(secret) if secret is not None else None
        self.signature_header = signature_header
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"Webhooks(signature_header={self.signature_header!r})"

    def verify(
        self, body: Body, signature: str | bytes | None, secret: str | Secret | None = None
    ) -> bool:
        """Do :func:`verify`, with the configured secret unless ``secret`` is given."""
        return verify(body, signature, self._secret_or(secret))

    def verify_request(
        self, headers: object, body: Body, secret: str | Secret | None = None
    ) -> bool:
        """Do :func:`verify_request` with the configured header and secret."""
        return verify_request(headers, body, self._secret_or(secret), header=self.signature_header)

    def parse(self, body: Body | str) -> WebhookEvent:
        """Do :func:`parse` with the configured size limit."""
        return parse(body, max_bytes=self.max_bytes)

    def _secret_or(self, secret: str | Secret | None) -> str | Secret:
        chosen = secret if secret is not None else self._secret
        if chosen is None:
            raise ConfigurationError(
                "cards_webhook_secret",
                "is not set; pass secret=… or set CARDS_WEBHOOK_SECRET",
            )
        return chosen
