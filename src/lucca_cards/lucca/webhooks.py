"""Lucca webhooks: check a delivery's signature and timestamp, read its event.

Lucca POSTs one JSON event to each endpoint declared for the topics it follows (see
:class:`~lucca_cards.lucca.endpoints.WebhookEndpoints`). Check the request over the
**raw** body bytes first, then parse::

    from datetime import datetime, timezone
    from lucca_cards.lucca import webhooks

    body = request.get_data()
    reason = webhooks.check_request(body, request.headers, secret,
                                    now=datetime.now(timezone.utc))
    if reason is not None:
        return reason, 401
    event = webhooks.parse(body)  # ValidationError (answer 400) for a malformed event
    print(event.topic, event.employee_id, event.occurred_at)

The scheme (developers.lucca.fr, "Webhooks > Catching events"):

* ``Lucca-Timestamp``: when Lucca sent the request, UTC ISO 8601
  (``2025-01-01T08:34:23Z``; an offset such as ``+00:00`` and fractional seconds are
  accepted, a date-time without a zone is refused: the tolerance could not be measured).
* ``Lucca-Signature``: the base64 HMAC-SHA256, keyed with the endpoint's secret, of the
  timestamp header's value, a ``.``, and the raw body (:func:`sign`). A request is refused
  when either header is missing, the signature differs (compared in constant time), or the
  timestamp is more than :data:`TOLERANCE` (5 minutes) away from now: a replay.

Events are checked strictly, since they come from the internet (:func:`parse`): ``id``,
``source`` and ``topic`` are non-blank strings without control characters (a number is
refused, not converted: Lucca's ids are strings, even numeric ones), ``data`` is an object,
and the employee an event is about is a string id too. ``occurredAt`` without a zone is
read as UTC, as every Lucca timestamp is; :attr:`LuccaEvent.occurred_at` is always in UTC.
Deduplicate on ``(source, id)``: the same event may be delivered more than once.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._headers import header_values
from .._secret import Secret
from ..errors import ConfigurationError
from ._event_input import EMPLOYEE_REFERENCE, check_event, date_time, invalid, read_json

#: A request's headers: any mapping, or ``(name, value)`` pairs (ASGI).
Headers = Mapping[str, Any] | Iterable[tuple[Any, Any]]

#: The header holding the base64 HMAC-SHA256 signature.
SIGNATURE_HEADER = "Lucca-Signature"
#: The header holding the send time (UTC ISO 8601), signed with the body.
TIMESTAMP_HEADER = "Lucca-Timestamp"
#: How far the timestamp may be from now, either way, before the request is a replay.
TOLERANCE = dt.timedelta(minutes=5)
#: The largest event body accepted (1 MiB): an event is a few kilobytes.
MAX_BODY_BYTES = 1 << 20
#: The topics the integration follows: hires, moves, email changes and leavers.
LIFECYCLE_TOPICS = (
    "employee.created", "employee.updated", "employee.deleted",
    "employment.created", "employment.updated", "employment.deleted",
    "job-position.created", "job-position.updated", "job-position.deleted",
)


@attrs.frozen(kw_only=True)
class LuccaEvent:
    """An event Lucca delivered (or listed at ``/lucca-api/events``).

    Attributes:
        id: the event's id; with ``source``, unique: deduplicate on ``(source, id)``.
        topic: ``<resource>.<action>``, such as ``employee.updated``.
        occurred_at: when the change happened (UTC, timezone-aware); apply events in this
            order, not in the order they arrive.
        source: the tenant the event comes from (its URL).
        api_version: the API version of ``data``'s schema.
        data: the resource just after the change (it may have changed again since).
        previous_attributes: on ``*.updated``, attribute → value before the change.
        url: the event's address in the Lucca API.
        business_establishment_id: the establishment concerned, if any.
        raw: the whole JSON object, as received.
    """

    id: str
    topic: str
    occurred_at: dt.datetime
    source: str
    api_version: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict, repr=False, hash=False)
    previous_attributes: Mapping[str, Any] | None = attrs.field(
        default=None, repr=False, hash=False)
    url: str | None = None
    business_establishment_id: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False, hash=False)

    @property
    def resource(self) -> str:
        """The kind of resource the event is about: ``employee`` for ``employee.created``."""
        return self.topic.rpartition(".")[0] or self.topic

    @property
    def action(self) -> str:
        """What happened to it: ``created``, ``updated``, ``deleted`` (``""`` without a dot)."""
        _, dot, action = self.topic.rpartition(".")
        return action if dot else ""

    @property
    def key(self) -> tuple[str, str]:
        """``(source, id)``: what identifies the event across deliveries."""
        return self.source, self.id

    @property
    def employee_id(self) -> str | None:
        """The employee the event is about, or ``None`` if it names none.

        ``employee.*``: ``data.id``; ``job-position.*`` and ``employment.*``:
        ``data.employee.id`` (both checked by :func:`parse` to be strings).
        """
        if self.resource == "employee":
            found = self.data.get("id")
        elif self.resource in EMPLOYEE_REFERENCE:
            employee = self.data.get("employee")
            found = employee.get("id") if isinstance(employee, Mapping) else None
        else:
            return None
        return found if isinstance(found, str) else None

    @classmethod
    def from_object(cls, payload: Any) -> LuccaEvent:
        """Build the event from its decoded JSON object, with :func:`parse`'s checks.

        Raises:
            ValidationError: as :func:`parse` (``errors`` names each field at fault).
        """
        return cls(**check_event(payload))


# -- signature --------------------------------------------------------------------------------


def sign(timestamp: str, body: bytes, secret: str | Secret) -> str:
    """Return the ``Lucca-Signature`` of ``body`` sent at ``timestamp``.

    The base64 of HMAC-SHA256, keyed with ``secret``, over ``timestamp + "." + body``.

    Raises:
        TypeError: ``timestamp`` is not a ``str`` or ``body`` not bytes.
        ConfigurationError: the secret is missing, empty or blank.

    >>> sign("2025-01-01T08:34:23Z", b"{}", "k")
    'bkRBXr6tF2zhLPmyEgMCzOpHdFR+cqmBp3fwlJkpHk8='
    """
    if not isinstance(timestamp, str):
        raise TypeError(f"the timestamp must be the header's text, not {type(timestamp).__name__}")
    message = timestamp.encode("utf-8") + b"." + _raw(body)
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check_request(
    body: bytes, headers: Mapping[str, Any], secret: str | Secret, *, now: dt.datetime
) -> str | None:
    """Return ``None`` for a genuine, fresh request; else why to refuse it (answer 401).

    Args:
        body: the raw request body, exactly as received.
        headers: the request's headers (any mapping, such as werkzeug's ``Headers``;
            names matched case-insensitively; values ``str`` or ``bytes``).
        secret: the endpoint's secret (``lucca_webhook_secret``).
        now: the current time, timezone-aware.

    The reason never quotes the secret, the signature or the expected signature.
    :func:`check_delivery` takes the headers as ``(name, value)`` pairs too (ASGI).

    Raises:
        TypeError: ``body`` is not bytes, or ``headers`` not a mapping.
        ValueError: ``now`` is naive.
        ConfigurationError: the secret is missing, empty or blank.

    >>> from datetime import datetime, timezone
    >>> check_request(b"{}", {}, "k", now=datetime.now(timezone.utc))
    'the Lucca-Signature header is missing'
    """
    if not callable(getattr(headers, "items", None)):
        raise TypeError(f"headers must be a mapping, not {type(headers).__name__}")
    return check_delivery(body, headers, secret, now=now)


def check_delivery(
    body: bytes, headers: Headers, secret: str | Secret, *, now: dt.datetime
) -> str | None:
    """Check a request as :func:`check_request` does, whatever shape its headers come in.

    The headers are any mapping, or ``(name, value)`` pairs, ``str`` or ``bytes`` (ASGI).

    Raises:
        TypeError: ``body`` is not bytes, or ``headers`` neither a mapping nor pairs.
        ValueError: ``now`` is naive.
        ConfigurationError: the secret is missing, empty or blank.
    """
    _key(secret)  # a bad secret or body is the caller's error, whatever the request holds
    _raw(body)
    if now.tzinfo is None:
        raise ValueError("check_request() needs an aware now, such as datetime.now(timezone.utc)")
    signature, problem = _header(headers, SIGNATURE_HEADER)
    if problem:
        return problem
    stamp_text, problem = _header(headers, TIMESTAMP_HEADER)
    if problem:
        return problem
    stamp = date_time(stamp_text)
    if stamp is None:
        return f"the {TIMESTAMP_HEADER} header is not a date-time (UTC ISO 8601, such as " \
               "2025-01-01T08:34:23Z)"
    if stamp.tzinfo is None:
        return f"the {TIMESTAMP_HEADER} header has no time zone (UTC ISO 8601 ends with Z)"
    away = abs((stamp - now).total_seconds())
    if away > TOLERANCE.total_seconds():
        return f"the timestamp is {math.ceil(away)} s away from now (more than 5 minutes): " \
               "a replay or a wrong clock"
    expected = sign(stamp_text, body, secret)
    given = signature.strip()
    if not given.isascii() or not hmac.compare_digest(expected, given):
        return "the signature does not match"
    return None


def _header(headers: Headers, name: str) -> tuple[str, str | None]:
    """Return the one value of header ``name`` and ``None``, or ``""`` and what is wrong."""
    values: set[str] = set()
    for value in header_values(headers, name):
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("latin-1")
        if isinstance(value, str) and value.strip():
            values.add(value.strip())
    if not values:
        return "", f"the {name} header is missing"
    if len(values) > 1:  # which one did Lucca send?
        return "", f"the {name} header is given twice, with different values"
    return values.pop(), None


def _key(secret: object) -> bytes:
    """Return the secret's bytes; refuse a missing, blank or mistyped one."""
    if secret is None:
        raise ConfigurationError("lucca_webhook_secret", "is not set; set LUCCA_WEBHOOK_SECRET "
                                 "(the secret lucca-cards lucca-webhooks register printed)")
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if not isinstance(value, str):
        raise TypeError("the webhook secret must be a str or a lucca_cards.Secret, not "
                        f"{type(value).__name__}")
    if not value.strip():  # blank: anyone could sign with it
        raise ConfigurationError("lucca_webhook_secret", "is empty or blank")
    return value.encode("utf-8")


def _raw(body: object) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError("the body must be the raw request body as bytes, not "
                    f"{type(body).__name__}: a re-encoded body may not be the signed bytes")


# -- the event --------------------------------------------------------------------------------


def parse(body: bytes | str, *, max_bytes: int | None = MAX_BODY_BYTES) -> LuccaEvent:
    """Read a delivery's body into a :class:`LuccaEvent`.

    Args:
        body: the request body (bytes, or text).
        max_bytes: the largest body accepted (``None``: no limit).

    Raises:
        ValidationError: the body is too large, not UTF-8, not JSON (``NaN`` is not),
            holds a lone surrogate escape, is not an object, lacks ``id``, ``topic``,
            ``occurredAt``, ``source`` or ``data``, or a value has the wrong type;
            ``errors`` names each field at fault.
        TypeError: ``body`` is neither bytes nor text.

    >>> parse('{"id": "e1", "topic": "employee.created", "source": "https://acme.ilucca.net",'
    ...       ' "occurredAt": "2025-01-01T08:34:23Z", "data": {"id": "416"}}').employee_id
    '416'
    """
    if isinstance(body, str):
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body could hold it
            raise invalid("body", "is not UTF-8 text") from None
    else:
        raw = _raw(body)
    if max_bytes is not None and len(raw) > max_bytes:
        raise invalid("body", f"has {len(raw)} bytes, more than the limit of {max_bytes}")
    return LuccaEvent(**check_event(read_json(raw)))
