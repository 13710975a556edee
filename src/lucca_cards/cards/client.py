"""The Cards REST API client (``https://api.cards-microlearning.com/v1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._auth import HeaderAuth
from .._client import BaseClient, TransportOptions, client_options
from .._secret import Secret
from ..config import DEFAULT_CARDS_URL, Settings, check_setting
from .resources import Badges, Certificates, Embeds, Groups, Trainings, Users
from .webhooks import DEFAULT_SIGNATURE_HEADER, Webhooks

if TYPE_CHECKING:
    from typing_extensions import Unpack

SERVICE = "Cards API"

#: What to do, by status, in the message of a Cards error.
HINTS = {
    401: "check CARDS_API_KEY (cards_api_key), and that the key belongs to the tenant "
    "sent in X-Tenant (CARDS_TENANT)",
    403: "the API key is not allowed to do this for the tenant sent in X-Tenant; check "
    "that CARDS_TENANT is the workspace the key was created in",
    404: "check the id; the object may have been deleted, or belong to another tenant",
    422: "Cards refused the values listed above; correct them and send again",
}


class CardsClient(BaseClient):
    """The Cards REST API: users, groups, trainings, badges, certificates, embeds.

    Every request carries ``Authorization: Bearer <api_key>``, ``X-Tenant: <tenant>`` and
    ``Accept: application/json``; the key never appears in a repr, a log or an error.
    Lists are lazy :class:`~lucca_cards._paging.Pager` objects that fetch 500 items a
    page. Requests are throttled (``requests_per_minute``, per host and process) and
    retried on 408, 429 (waiting ``Retry-After``), 5xx and lost connections; a user
    creation is retried only when it cannot have reached Cards.

    Args:
        tenant: the workspace identifier, sent as ``X-Tenant``.
        api_key: the API key created in the Cards back-office.
        base_url: the API root, ``/v1`` included.
        requests_per_minute: client-side throttle (Cards documents no limit; 60 assumed).
        retry: the retry policy.
        timeout: connect and read timeouts.
        rate_limiter: an explicit limiter, instead of the host's shared one.
        clock: the monotonic clock (injectable for tests).
        sleep: the sleep function (injectable for tests).
        session: a :class:`requests.Session` to reuse (not closed by the client).
        signature_header: the webhook signature header's name (assumed ``Signature``).
        webhook_secret: the webhook secret, the default of ``client.webhooks``.

    Attributes:
        users: :class:`~lucca_cards.cards.resources.Users`.
        groups: :class:`~lucca_cards.cards.resources.Groups`.
        trainings: :class:`~lucca_cards.cards.resources.Trainings`.
        badges: :class:`~lucca_cards.cards.resources.Badges`.
        certificates: :class:`~lucca_cards.cards.resources.Certificates`.
        embeds: :class:`~lucca_cards.cards.resources.Embeds`.
        webhooks: :class:`~lucca_cards.cards.webhooks.Webhooks`.

    Raises:
        ConfigurationError: a value :class:`~lucca_cards.Settings` would refuse (a blank or
            multi-line tenant or key, a URL with credentials, a query or plain http to a
            remote host, a rate that is not a finite number, 0 or more …), named as the
            setting (``cards_tenant``, ``cards_api_key``, ``cards_url`` …).

    >>> with CardsClient(tenant="acme", api_key="…") as cards:  # doctest: +SKIP
    ...     for user in cards.users.list(role="user"):
    ...         print(user.email, [group.name for group in user.groups])
    """

    def __init__(
        self,
        *,
        tenant: str,
        api_key: str | Secret,
        base_url: str = DEFAULT_CARDS_URL,
        requests_per_minute: float = 60,
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
        webhook_secret: str | Secret | None = None,
        **transport_options: Unpack[TransportOptions],
    ) -> None:
        # The checks of Settings, under the same names (cards_tenant, cards_api_key, …).
        tenant = check_setting("cards_tenant", tenant)
        key = check_setting("cards_api_key", api_key)
        base_url = check_setting("cards_url", base_url)
        requests_per_minute = check_setting("cards_requests_per_minute", requests_per_minute)
        signature_header = check_setting("cards_signature_header", signature_header)
        if webhook_secret is not None:
            webhook_secret = check_setting("cards_webhook_secret", webhook_secret)
        options = client_options(requests_per_minute, **transport_options)
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        transport = options.transport(
            self.base_url,
            service=SERVICE,
            auth=HeaderAuth(
                headers={"Authorization": f"Bearer {key.reveal()}"}, secrets=(key.reveal(),)
            ),
            headers={"X-Tenant": tenant, "Accept": "application/json"},
            hints=HINTS,
            url_setting="CARDS_URL (cards_url)",
        )
        self._transports = (transport,)
        self.users = Users(transport)
        self.groups = Groups(transport)
        self.trainings = Trainings(transport)
        self.badges = Badges(transport)
        self.certificates = Certificates(transport)
        self.embeds = Embeds(transport)
        self.webhooks = Webhooks(secret=webhook_secret, signature_header=signature_header)

    def __repr__(self) -> str:
        return f"CardsClient(base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CardsClient:
        """Build the client from :class:`~lucca_cards.config.Settings`.

        Uses ``cards_tenant`` and ``cards_api_key`` (required), ``cards_url``,
        ``cards_requests_per_minute``, ``cards_signature_header`` and
        ``cards_webhook_secret``; ``options`` (any constructor argument) win over them.

        Raises:
            ConfigurationError: ``cards_tenant`` or ``cards_api_key`` is not set.

        >>> cards = CardsClient.from_settings(Settings.from_env())  # doctest: +SKIP
        """
        settings.require("cards_tenant", "cards_api_key")
        arguments: dict[str, Any] = {
            "tenant": settings.cards_tenant,
            "api_key": settings.cards_api_key,
            "base_url": settings.cards_url,
            "requests_per_minute": settings.cards_requests_per_minute,
            "signature_header": settings.cards_signature_header,
            "webhook_secret": settings.cards_webhook_secret,
        }
        return cls(**{**arguments, **options})
