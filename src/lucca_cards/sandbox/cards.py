"""The fake Cards API: ``/v1`` resources of one workspace, learner activity and webhooks.

Built from reference ``cards-api.md`` (section 13 and the Gaps table give the choices
the docs leave open). Where the reference is silent, this fake settles:

- a wrong ``X-Tenant`` is a 403 ``{"message": "This action is unauthorized."}``; routing
  comes first (unknown route 404, wrong verb 405), then the key (401), then the tenant;
- ``POST /v1/embeds`` answers 200 as documented; an email that is not a user's, or an
  unknown ``training_id``, is a 422 ``exists`` error ("The selected email is invalid.");
- a group name matches exactly (case-sensitive) and the first group of a name wins;
  emails are unique case-insensitively; ``notify`` (create only) fills :attr:`outbox`;
- one validation message per attribute (Laravel's first failing rule); a body that is
  not a JSON object reads as no input, as Laravel reads it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox import _cards_json as cj
from lucca_cards.sandbox._cards_users import Accounts
from lucca_cards.sandbox._laravel import (
    FilterField,
    LaravelError,
    LaravelValidationError,
    apply_filters,
    list_query,
    paginate,
    validate,
)
from lucca_cards.sandbox._list_cache import ListCache
from lucca_cards.sandbox._model import Badge, CardsData, CardsUser
from lucca_cards.sandbox._service import Clock, FakeService, Faults, json_response
from lucca_cards.sandbox.activity import ActivityReport, WebhookSender, simulate, stamp

API = "cards"
EMBED_HOST = "https://embed.cards-microlearning.com/"
_ROUTES = Map(
    [
        Rule("/v1/users", endpoint="list_users", methods=["GET"]),
        Rule("/v1/users", endpoint="create_user", methods=["POST"]),
        Rule("/v1/users/<key>", endpoint="get_user", methods=["GET"]),
        Rule("/v1/users/<key>", endpoint="update_user", methods=["PUT"]),
        Rule("/v1/users/<key>", endpoint="delete_user", methods=["DELETE"]),
        Rule("/v1/users/<key>/badges", endpoint="user_badges", methods=["GET"]),
        Rule("/v1/groups", endpoint="list_groups", methods=["GET"]),
        Rule("/v1/trainings", endpoint="list_trainings", methods=["GET"]),
        Rule("/v1/badges", endpoint="list_badges", methods=["GET"]),
        Rule("/v1/badges/<key>", endpoint="get_badge", methods=["GET"]),
        Rule("/v1/badges/<key>/users", endpoint="badge_users", methods=["GET"]),
        Rule("/v1/certificates", endpoint="list_certificates", methods=["GET"]),
        Rule("/v1/embeds", endpoint="create_embed", methods=["POST"]),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
_CONTROLS = {"/_sandbox/activity": "POST", "/_sandbox/redeliver": "POST", "/_sandbox/outbox": "GET"}
Handler = Callable[[Request, str], Response]
T = TypeVar("T")


class CardsFake(FakeService):
    """A stateful fake of the Cards API over ``data`` (a WSGI app; serve it with ``ServedApp``).

    ``api_key`` and the tenant (``data.tenant``) guard every ``/v1`` request;
    :meth:`simulate_activity` makes learners progress and POSTs signed webhooks to
    :attr:`webhook_url`. Control endpoints: ``POST /_sandbox/activity`` (optional body
    ``{"learners": 20, "seed": 1}``), ``POST /_sandbox/redeliver``, ``GET /_sandbox/outbox``.
    """

    apis = (API,)

    def __init__(
        self,
        data: CardsData,
        *,
        api_key: str,
        webhook_secret: str,
        webhook_url: str | None = None,
        signature_header: str = "Signature",
        rate_limit: int = 60,
        rate_window: float = 60.0,
        faults: dict[str, Faults] | None = None,
        clock: Clock = time.monotonic,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        delivery_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        seed: int = 0,
    ) -> None:
        super().__init__(rate_limit=rate_limit, rate_window=rate_window, faults=faults, clock=clock)
        self.data, self.webhook_url, self.now = data, webhook_url, now
        self._api_key = api_key
        self.webhooks = WebhookSender(
            secret=webhook_secret, header=signature_header, attempts=delivery_attempts, sleep=sleep
        )
        self.outbox: list[dict[str, Any]] = []
        self.embeds: list[dict[str, Any]] = []
        self._rng = random.Random(seed)  # noqa: S311 - ids and tokens of a fake
        self.accounts = Accounts(data, self._new_id)
        #: The filtered user and group lists of recent queries: a page only slices one.
        self.lists = ListCache()
        self._handlers: dict[str, Handler] = {
            str(rule.endpoint): getattr(self, f"_{rule.endpoint}") for rule in _ROUTES.iter_rules()
        }

    # -- FakeService -------------------------------------------------------------------

    def api_of(self, path: str) -> str | None:
        """Return ``"cards"`` for ``/v1`` paths."""
        return API if path == "/v1" or path.startswith("/v1/") else None

    def dispatch(self, request: Request, api: str) -> Response:
        """Route, authenticate and answer a ``/v1`` request, with rate-limit headers."""
        try:
            endpoint, args = _ROUTES.bind("cards").match(request.path, request.method)
            self._authenticate(request)
            with self.lock:
                response = self._handlers[str(endpoint)](request, args.get("key", ""))
        except NotFound:
            response = self._message(404, _route_missing(request))
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.valid_methods or ())
            response = self._message(
                405,
                f"The {request.method} method is not supported for route "
                f"{request.path.lstrip('/')}. Supported methods: {allowed}.",
            )
            response.headers["Allow"] = allowed
        except LaravelError as exc:
            response = json_response(exc.body(), exc.status, headers=exc.headers)
        return self._with_rate_headers(response)

    def error(self, api: str, status: int, message: str, request: Request) -> Response:
        """Build a Laravel error (``Too Many Attempts.``, ``Server Error``…)."""
        text = {429: "Too Many Attempts.", 500: "Server Error", 503: "Service Unavailable"}
        if status == 404:
            return self._message(404, _route_missing(request))
        return self._with_rate_headers(self._message(status, text.get(status, message)))

    def state(self) -> dict[str, Any]:
        """Return the workspace, the outbox and the webhook queue (never a key or secret)."""
        data = self.data
        return {
            "tenant": data.tenant,
            "users": [self._user_json(user) for user in data.users.values()],
            "groups": [cj.plain(group) for group in data.groups.values()],
            "trainings": [cj.plain(training) for training in data.trainings.values()],
            "badges": [cj.plain(badge) for badge in data.badges.values()],
            "certificates": [cj.plain(item) for item in data.certificates.values()],
            "progress": [cj.plain(progress) for progress in data.progress.values()],
            "outbox": list(self.outbox),
            "embeds": list(self.embeds),
            "webhook_url": self.webhook_url,
            "undelivered": len(self.webhooks.undelivered),
        }

    def control(self, request: Request) -> Response | None:
        """Serve ``/_sandbox/activity``, ``/_sandbox/redeliver`` and ``/_sandbox/outbox``."""
        verbs = _CONTROLS
        if request.path not in verbs:
            return None
        if request.method != verbs[request.path]:
            return json_response({"message": "Method not allowed."}, 405)
        if request.path == "/_sandbox/outbox":
            with self.lock:
                return json_response(list(self.outbox))
        if request.path == "/_sandbox/redeliver":
            return json_response(self.redeliver().as_json())
        try:
            learners, seed = cj.activity_options(request)
        except LaravelError as exc:
            return json_response(exc.body(), exc.status)
        return json_response(self.simulate_activity(learners, seed).as_json())

    def stop(self) -> None:
        """Release late answers and the webhook connections."""
        super().stop()
        self.webhooks.close()

    # -- learner activity --------------------------------------------------------------

    def simulate_activity(self, learners: int = 20, seed: int = 1) -> ActivityReport:
        """Make ``learners`` users progress, then deliver the signed webhooks (see activity)."""
        with self.lock:
            events = simulate(
                self.data, learners=learners, seed=seed, now=self.now(), new_id=self._new_id
            )
            url = self.webhook_url
        # Delivered outside the lock: a receiver may call this API back meanwhile.
        return self.webhooks.send(url, events)

    def redeliver(self) -> ActivityReport:
        """Try the undelivered webhooks again, to the current :attr:`webhook_url`."""
        return self.webhooks.redeliver(self.webhook_url)

    # -- users -------------------------------------------------------------------------

    def _list_users(self, request: Request, key: str) -> Response:
        users, filters = self.data.users.values(), cj.user_filters(self.data.groups)
        return self._page(request, users, filters, self._user_json, kept="users")

    def _get_user(self, request: Request, key: str) -> Response:
        return json_response({"data": self._user_json(self._user(key))})

    def _create_user(self, request: Request, key: str) -> Response:
        body = cj.read_body(request)
        groups = self.accounts.check(body, None)
        user = CardsUser(id=self._new_id(), firstname="", lastname="", email=None)
        self.accounts.apply(user, body, groups)
        self.data.users[user.id] = user
        if body.get("notify") in cj.TRUTHY:
            self.outbox.append(
                {"user_id": user.id, "email": user.email, "firstname": user.firstname,
                 "lastname": user.lastname, "source": user.source,
                 "created_at": stamp(self.now())}
            )  # fmt: skip
        return json_response({"data": self._user_json(user)}, 201)

    def _update_user(self, request: Request, key: str) -> Response:
        user = self._user(key)
        body = cj.read_body(request)
        body.pop("notify", None)
        self.accounts.apply(user, body, self.accounts.check(body, user.id))
        return json_response({"data": self._user_json(user)})

    def _delete_user(self, request: Request, key: str) -> Response:
        user = self.data.users.pop(self._user(key).id)
        self.accounts.forget(user, user.email)
        return json_response(None, 204)

    def _user_badges(self, request: Request, key: str) -> Response:
        user = self._user(key)
        badges = [badge for badge in self.data.badges.values() if user.id in badge.user_ids]
        return self._page(request, badges, cj.PUBLICATION_FILTERS, cj.badge_json)

    # -- other resources ---------------------------------------------------------------

    def _list_groups(self, request: Request, key: str) -> Response:
        groups = self.data.groups.values()
        return self._page(request, groups, cj.GROUP_FILTERS, cj.group_json, kept="groups")

    def _list_trainings(self, request: Request, key: str) -> Response:
        groups = self.data.groups
        return self._page(
            request,
            self.data.trainings.values(),
            cj.training_filters(groups),
            lambda training: cj.training_json(training, groups),
        )

    def _list_badges(self, request: Request, key: str) -> Response:
        return self._page(request, self.data.badges.values(), cj.PUBLICATION_FILTERS, cj.badge_json)

    def _get_badge(self, request: Request, key: str) -> Response:
        return json_response({"data": cj.badge_json(self._badge(key))})

    def _badge_users(self, request: Request, key: str) -> Response:
        users = self.data.users
        unlocked = [users[user_id] for user_id in self._badge(key).user_ids if user_id in users]
        return self._page(request, unlocked, {}, self._user_json)

    def _list_certificates(self, request: Request, key: str) -> Response:
        certificates = self.data.certificates.values()
        return self._page(request, certificates, cj.PUBLICATION_FILTERS, cj.certificate_json)

    def _create_embed(self, request: Request, key: str) -> Response:
        body = cj.read_body(request)
        errors = validate(body, cj.embed_rules(self.data.trainings, self.accounts.emails))
        if errors:
            raise LaravelValidationError(errors)
        url = EMBED_HOST + f"{self._rng.getrandbits(160):040x}"
        self.embeds.append(
            {"type": body["type"], "training_id": body.get("training_id"),
             "email": body["email"], "once": body.get("once", True) in cj.TRUTHY,
             "expires_at": body.get("expires_at"), "url": url}
        )  # fmt: skip
        return json_response({"message": "Embed link created", "url": url})

    # -- helpers -----------------------------------------------------------------------

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if not token or not hmac.compare_digest(token.encode(), self._api_key.encode()):
            raise LaravelError(401, "Unauthenticated.")
        if request.headers.get("X-Tenant") != self.data.tenant:
            raise LaravelError(403, "This action is unauthorized.")

    def _page(
        self,
        request: Request,
        items: Iterable[Any],
        fields: Mapping[str, FilterField[Any]],
        render: Callable[[Any], Any],
        kept: str | None = None,
    ) -> Response:
        """Answer a page; the filtered list of a ``kept`` one is kept for the next pages."""
        query = list_query(request.args)
        path = request.host_url.rstrip("/") + request.path.rstrip("/")

        def matching() -> list[Any]:
            return apply_filters(items, query.filters, fields)

        # Typed values: 1, 1.0 and True are one dict key, yet the filters read them apart.
        key = (kept, tuple((f.type, tuple((type(v), v) for v in f.values)) for f in query.filters))
        listed = matching() if kept is None else self.lists.get(key, matching)
        return json_response(paginate(listed, query, path, render))

    def _user(self, key: str) -> CardsUser:
        return _find(self.data.users, key, "User")

    def _badge(self, key: str) -> Badge:
        return _find(self.data.badges, key, "Badge")

    def _user_json(self, user: CardsUser) -> dict[str, Any]:
        return cj.user_json(user, self.data.groups)

    def _message(self, status: int, text: str) -> Response:
        return json_response({"message": text}, status)

    def _with_rate_headers(self, response: Response) -> Response:
        if self.limiter.limit:
            response.headers["X-RateLimit-Limit"] = str(self.limiter.limit)
            response.headers["X-RateLimit-Remaining"] = str(self.limiter.remaining())
        return response

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def _find(table: Mapping[str, T], key: str, model: str) -> T:
    """Return ``table[key]``, or raise Laravel's 404 for a missing model."""
    if key not in table:
        raise LaravelError(404, f"No query results for model [App\\Models\\{model}] {key}")
    return table[key]


def _route_missing(request: Request) -> str:
    return f"The route {request.path.lstrip('/')} could not be found."
