"""``Sandbox``: the fake Lucca and the fake Cards, generated data, on loopback ports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._serving import ServedApp
from ._faults import Faults
from ._lucca_webhooks import webhook_url_error
from ._model import Company
from .activity import ActivityReport
from .cards import CardsFake
from .generator import generate_company
from .lucca import DEFAULT_SCOPES as _LUCCA_SCOPES
from .lucca import LuccaFake

if TYPE_CHECKING:  # the settings are the SDK's; the fakes never import it
    from ..config import Settings

#: The scopes of the sandbox's OAuth client (DESIGN: the integration's documented scopes):
#: ``departments.readonly``, ``employees.readwrite``, ``webhook-endpoints.readwrite`` and
#: ``events.readonly``.
DEFAULT_SCOPES: tuple[str, ...] = _LUCCA_SCOPES
#: The SDK's default share of Lucca's budget of 50 requests per minute.
_CLIENT_LUCCA_RATE = 40.0
#: Where each API's faults go: the fake that serves it.
_LUCCA_APIS = frozenset(LuccaFake.apis)
_CARDS_APIS = frozenset(CardsFake.apis)


@dataclass(frozen=True)
class SandboxCredentials:
    """The secrets a sandbox accepts; :meth:`generate` makes fresh random ones.

    ``repr`` masks the secrets, so a sandbox can be logged safely.
    """

    client_id: str = "lucca-cards-sandbox"
    client_secret: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    cards_tenant: str = "acme"
    cards_api_key: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    lucca_webhook_secret: str = field(default="", repr=False)

    @classmethod
    def generate(cls, **fixed: str) -> SandboxCredentials:
        """Random secrets (``secrets.token_urlsafe``); ``fixed`` sets any field."""
        made = {
            name: secrets.token_urlsafe(24)
            for name in ("client_secret", "api_key", "cards_api_key", "webhook_secret",
                         "lucca_webhook_secret")
        }
        return cls(**{**made, **fixed})


def _with_lucca_webhook_secret(credentials: SandboxCredentials) -> SandboxCredentials:
    """Fill in a random Lucca webhook secret when ``credentials`` have none (older callers)."""
    if credentials.lucca_webhook_secret:
        return credentials
    return dataclasses.replace(credentials, lucca_webhook_secret=secrets.token_urlsafe(24))


class Sandbox:
    """Fake Lucca (token endpoint, Lucca API, legacy API) and fake Cards over loopback.

    Starts on free loopback ports (or ``port`` for Lucca and ``port + 1`` for Cards) with a
    generated company, and hands out :class:`~lucca_cards.Settings` from which every client's
    ``from_settings`` builds a ready client::

        with Sandbox(employees=50, lucca_rate_limit=0, cards_rate_limit=0) as sandbox:
            lucca = LuccaOAuthClient.from_settings(sandbox.settings())
            print(sum(1 for _ in lucca.employees.list()))        # 50

    Rate limits are requests per ``rate_window`` seconds (0 = unlimited). ``faults`` maps an
    API (``"token"``, ``"lucca"``, ``"legacy"``, ``"cards"``) to the :class:`Faults` to
    inject. ``clock`` drives token expiry and rate windows; ``sleep`` the webhook redelivery
    backoff (Cards' and Lucca's). ``lucca_webhook_url``: where the fake Lucca sends its
    events, declared at start as a webhook endpoint (topics ``employee.*``,
    ``employment.*``, ``job-position.*``) whose secret is
    ``credentials.lucca_webhook_secret``. ``stats_field=False`` generates the tenant without
    its ``e_formation`` training field (before the Lucca setup step that creates it), to
    show how the SDK reports it.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        employees: int = 300,
        departments: int = 24,
        trainings: int = 8,
        company: Company | None = None,
        today: dt.date | None = None,
        stats_field: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        lucca_rate_limit: int = 50,
        cards_rate_limit: int = 60,
        rate_window: float = 60.0,
        webhook_url: str | None = None,
        lucca_webhook_url: str | None = None,
        token_lifetime: int = 1800,
        lucca_scopes: Sequence[str] = DEFAULT_SCOPES,
        faults: Mapping[str, Faults] | None = None,
        credentials: SandboxCredentials | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        unknown = set(faults or {}) - _LUCCA_APIS - _CARDS_APIS
        if unknown:
            raise ValueError(f"no API named {sorted(unknown)}; use token, lucca, legacy or cards")
        problem = None if lucca_webhook_url is None else webhook_url_error(lucca_webhook_url)
        if problem:
            raise ValueError(f"lucca_webhook_url {lucca_webhook_url!r}: {problem}")
        if company is not None and not stats_field:
            raise ValueError("stats_field=False shapes a generated company; with company=, "
                             "leave the field out of company.lucca.extended_fields instead")
        self.company = company or generate_company(
            seed=seed, employees=employees, departments=departments, trainings=trainings,
            today=today, stats_field=stats_field,
        )
        self.credentials = _with_lucca_webhook_secret(
            credentials or SandboxCredentials.generate(cards_tenant=self.company.cards.tenant)
        )
        self.lucca_webhook_url = lucca_webhook_url
        self._lucca_endpoint: str | None = None
        self.rate_window = rate_window
        self._scopes = tuple(lucca_scopes)
        creds, faults = self.credentials, dict(faults or {})
        self.lucca = LuccaFake(
            self.company.lucca, today=self.company.today, client_id=creds.client_id,
            client_secret=creds.client_secret, api_key=creds.api_key, scopes=lucca_scopes,
            token_lifetime=token_lifetime, rate_limit=lucca_rate_limit, rate_window=rate_window,
            faults={k: v for k, v in faults.items() if k in _LUCCA_APIS}, clock=clock,
            sleep=sleep,
        )
        self.cards = CardsFake(
            self.company.cards, api_key=creds.cards_api_key, webhook_secret=creds.webhook_secret,
            webhook_url=webhook_url, rate_limit=cards_rate_limit, rate_window=rate_window,
            faults={k: v for k, v in faults.items() if k in _CARDS_APIS}, clock=clock,
            sleep=sleep, seed=seed,
        )
        self._host, self._port = host, port
        self._served: list[ServedApp] = []

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving (done by ``with``); return the sandbox.

        Raises:
            OSError: ``port`` or ``port + 1`` cannot be listened on (the message names
                it); neither port stays open.
        """
        if not self._served:
            lucca = ServedApp(self.lucca, self._host, self._port)
            try:
                cards = ServedApp(self.cards, self._host, self._port + 1 if self._port else 0)
            except BaseException:
                lucca.close()
                raise
            self._served = [lucca, cards]
            self.lucca.root_url = lucca.url
            self.lucca.deliveries.start()
            if self.lucca_webhook_url is not None and self._lucca_endpoint is None:
                # Once per sandbox; a receiver not up yet is challenged again later.
                self._lucca_endpoint, _ = self.lucca.register_webhook(
                    self.lucca_webhook_url, secret=self.credentials.lucca_webhook_secret)
        return self

    def close(self) -> None:
        """Stop both servers (and the Lucca event deliveries) and free their ports."""
        served, self._served = self._served, []
        for app in served:
            app.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- where and how to connect ----------------------------------------------------------

    def _root(self, index: int) -> str:
        if not self._served:
            raise RuntimeError("the sandbox is not running: use `with Sandbox() as sandbox:`")
        return self._served[index].url

    @property
    def lucca_url(self) -> str:
        """The fake tenant's root URL (``/lucca-api`` and ``/api/v3`` hang off it)."""
        return self._root(0)

    @property
    def token_url(self) -> str:
        """The fake OAuth token endpoint (on the Lucca host)."""
        return self._root(0) + "/connect/token"

    @property
    def cards_root(self) -> str:
        """The fake Cards host root (``/_sandbox/…`` controls live here)."""
        return self._root(1)

    @property
    def cards_url(self) -> str:
        """The fake Cards API base URL (``…/v1``)."""
        return self._root(1) + "/v1"

    def connection_info(self) -> dict[str, str]:
        """Return what ``lucca-cards sandbox serve`` prints: URLs and every credential."""
        creds = self.credentials
        return {
            "lucca_url": self.lucca_url,
            "token_url": self.token_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "api_key": creds.api_key,
            "cards_url": self.cards_url,
            "cards_tenant": creds.cards_tenant,
            "cards_api_key": creds.cards_api_key,
            "webhook_secret": creds.webhook_secret,
            "lucca_webhook_secret": creds.lucca_webhook_secret,
        }

    def settings(self, **overrides: Any) -> Settings:
        """:class:`~lucca_cards.Settings` pointing every client at this sandbox.

        The client-side rates follow the sandbox's limits: unlimited when the sandbox is,
        otherwise the SDK's defaults (40/min for Lucca, the Cards limit for Cards).
        """
        from ..config import Settings

        return Settings(**{**self.setting_values(), **overrides})

    def setting_values(self) -> dict[str, Any]:
        """Return the values of :meth:`settings`, by setting name (``lucca_url`` …).

        What ``lucca-cards sandbox serve --write-config`` and ``--print-env`` write.
        """
        info = self.connection_info()
        values: dict[str, Any] = {
            "lucca_url": info["lucca_url"],
            "lucca_token_url": info["token_url"],
            "lucca_client_id": info["client_id"],
            "lucca_client_secret": info["client_secret"],
            "lucca_api_key": info["api_key"],
            "lucca_scopes": " ".join(self.lucca_scopes),
            "lucca_requests_per_minute": self._client_rate(
                self.lucca.limiter.limit, _CLIENT_LUCCA_RATE
            ),
            "cards_url": info["cards_url"],
            "cards_tenant": info["cards_tenant"],
            "cards_api_key": info["cards_api_key"],
            "cards_webhook_secret": info["webhook_secret"],
            "lucca_webhook_secret": info["lucca_webhook_secret"],
            "cards_requests_per_minute": self._client_rate(self.cards.limiter.limit, None),
        }
        return values

    def _client_rate(self, limit: int, cap: float | None) -> float:
        if not limit:
            return 0.0
        per_minute = limit * 60.0 / self.rate_window
        return min(per_minute, cap) if cap is not None else per_minute

    @property
    def lucca_scopes(self) -> tuple[str, ...]:
        """The scopes the sandbox's OAuth client holds."""
        return self._scopes

    # -- control -------------------------------------------------------------------------

    def simulate_activity(self, learners: int = 20, seed: int = 1) -> ActivityReport:
        """Make ``learners`` Cards users progress and deliver the signed webhooks."""
        return self.cards.simulate_activity(learners=learners, seed=seed)

    def set_faults(self, api: str, faults: Faults | None) -> None:
        """Inject ``faults`` into ``api`` (token, lucca, legacy or cards); ``None`` stops."""
        if api in _LUCCA_APIS:
            self.lucca.set_faults(api, faults)
        elif api in _CARDS_APIS:
            self.cards.set_faults(api, faults)
        else:
            raise ValueError(f"no API named {api!r}; use token, lucca, legacy or cards")

    def __repr__(self) -> str:
        where = f"lucca={self.lucca_url!r}, cards={self.cards_url!r}" if self._served else "stopped"
        return f"Sandbox({where}, employees={len(self.company.lucca.employees)})"
