"""The same jobs as a capable developer would write them with ``requests``, from the API docs.

The yardstick of ``make bench``: one ``requests.Session`` per API, calls one after the
other, each API's calls spaced at its rate (``time.sleep`` on the monotonic clock; the
Lucca token endpoint and the legacy API share the Lucca host's spacing, as they share the
tenant's budget), a 429 waited out for its ``Retry-After``. Paging follows
``links.next.href`` on the Lucca API (``include=embedded,links&limit=100``), ``page`` and
``paginate=500`` up to ``meta.last_page`` on Cards, ``paging=offset,1000`` on the legacy
API until a short page. The rules are the SDK's documented ones, so both write the same:
an employee is imported when their trimmed, lower-cased email is valid, theirs alone and
matches at most one account (not when their linked account has another email: the sync
changes it), and their names fit Cards' 190 characters; a join is one ``PUT`` with the
union of groups read at most ``max_age`` seconds before (:class:`Fresh`, the SDK's bound);
a move leaves only the group the script put the account in; a file is written when its
occurrences differ (``baseline_stats.py``).

It imports nothing from ``lucca_cards`` but the training ledger (a table to read); it is
handed the sandbox's URLs and credentials as a dict (``Sandbox.connection_info``). Its
memory of the previous runs (employee → account, its email, department, group) is a JSON
file.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import requests

API_VERSION = "2024-11-01"
SCOPES = "departments.readonly employees.readwrite"
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
NAME_LIMIT = 190
FIELD = "e_formation"
Person = dict[str, Any]
Account = dict[str, Any]
#: Employee id → its link: ``account``, ``email`` (the account's), ``department``, ``group``.
Links = dict[str, dict[str, Any]]
#: What :meth:`Accounts.match` says when there is no account, or none may be used.
CREATE, SKIP = "create", "skip"
AT_WORK = ("active", "upcoming")


class Spacer:
    """Lets one call through every ``60 / per_minute`` seconds (0: no spacing)."""

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.last = float("-inf")

    def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.last = time.monotonic()


class Api:
    """One API: a session, its root URL, its headers and the spacing of its host."""

    def __init__(self, root: str, headers: dict[str, str], spacer: Spacer) -> None:
        self.root, self.spacer = root.rstrip("/"), spacer
        self.session = requests.Session()
        self.session.headers.update(headers)

    def call(self, method: str, url: str, **options: Any) -> Any:
        """Send one request (again after a 429's ``Retry-After``); return its JSON."""
        url = url if url.startswith("http") else self.root + url
        while True:
            self.spacer.wait()
            answer = self.session.request(method, url, timeout=30, **options)
            if answer.status_code != 429:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        answer.raise_for_status()
        return answer.json() if answer.content else None


def connect(info: dict[str, str], lucca_rate: float, cards_rate: float
            ) -> tuple[Api, Api, Api]:
    """The Lucca API (with its token), the legacy API and Cards; Lucca's share one spacing."""
    lucca_host = Spacer(lucca_rate)
    lucca = Api(info["lucca_url"], {"Api-Version": API_VERSION}, lucca_host)
    legacy = Api(info["lucca_url"], {"Authorization": f"lucca application={info['api_key']}"},
                 lucca_host)
    cards = Api(info["cards_url"], {"Authorization": f"Bearer {info['cards_api_key']}",
                                    "X-Tenant": info["cards_tenant"],
                                    "Accept": "application/json"}, Spacer(cards_rate))
    return lucca, legacy, cards


def log_in(lucca: Api, info: dict[str, str]) -> None:
    """Fetch the Lucca API's bearer token (client credentials)."""
    token = lucca.call("POST", info["token_url"], data={
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"], "scope": SCOPES})["access_token"]
    lucca.session.headers["Authorization"] = f"Bearer {token}"


def lucca_items(lucca: Api, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Lucca API collection, with the page's ``embedded`` alongside."""
    url: str | None = path
    query: dict[str, Any] | None = {**params, "include": "embedded,links", "limit": 100}
    while url:
        page = lucca.call("GET", url, params=query)
        query = None  # the next link carries the whole query
        for item in page["items"]:
            yield {**item, "_embedded": page.get("embedded") or {}}
        url = ((page.get("links") or {}).get("next") or {}).get("href")


def employees(lucca: Api, status: str | None = "active,upcoming") -> list[Person]:
    """Employees of ``status`` (``None``: every status): id, status, names, email, department."""
    people = []
    for item in lucca_items(lucca, "/lucca-api/employees", {"status": status} if status else {}):
        position = (item.get("applicableJobPosition") or {}).get("id")
        job = item["_embedded"].get("job-position", {}).get(str(position)) or {}
        people.append({"id": str(item["id"]), "status": item.get("status"),
                       "given": (item.get("givenName") or "").strip(),
                       "family": (item.get("familyName") or "").strip(),
                       "email": key(item.get("email")),
                       "department": (job.get("department") or {}).get("id")})
    return people


def department_names(lucca: Api) -> dict[str, str]:
    """Department id → group name (the department's name, trimmed)."""
    return {d["id"]: (d.get("name") or "").strip()
            for d in lucca_items(lucca, "/lucca-api/departments", {})}


def cards_all(cards: Api, path: str) -> list[dict[str, Any]]:
    """Every item of a Cards collection, 500 a page."""
    items, page = [], 1
    while True:
        body = cards.call("GET", path, params={"page": page, "paginate": 500})
        items += body["data"]
        if page >= body["meta"]["last_page"]:
            return items
        page += 1


class Fresh:
    """The accounts' groups as last read; a join's union starts from groups read at most
    ``max_age`` seconds before (the SDK's bound): else the account's page of 500 is read
    again (the writes go in sweep order, so one read serves the next ones), or the
    account alone once it left that page; ``0`` reads each account before its ``PUT``.
    """

    def __init__(self, cards: Api, max_age: float) -> None:
        self.cards, self.max_age = cards, max_age
        self.page: dict[str, int] = {}
        self.read: dict[str, tuple[float, Account]] = {}

    def sweep(self) -> list[Account]:
        """Every account, 500 a page, each page's time remembered."""
        items, page = [], 1
        while True:
            body = self.cards.call("GET", "/users", params={"page": page, "paginate": 500})
            self._saw(page, body["data"])
            items += body["data"]
            if page >= body["meta"]["last_page"]:
                return items
            page += 1

    def position(self, account: Account | str | None) -> int:
        """The account's page in the sweep, the order of the writes (none or new: last)."""
        number = self.page.get(account["id"]) if isinstance(account, dict) else None
        return number or 1 << 30

    def current(self, account: Account) -> Account:
        """The account with groups read at most ``max_age`` seconds ago."""
        at, latest = self.read.get(account["id"], (float("-inf"), account))
        if self.max_age > 0 and time.monotonic() - at <= self.max_age:
            return latest
        if self.max_age > 0 and account["id"] in self.page:
            number, asked = self.page[account["id"]], time.monotonic()
            self._saw(number, self.cards.call("GET", "/users", params={
                "page": number, "paginate": 500})["data"])
            if self.read[account["id"]][0] >= asked:
                return self.read[account["id"]][1]
        return self.wrote(self.cards.call("GET", f"/users/{account['id']}")["data"])

    def wrote(self, user: Account) -> Account:
        """Remember an account as a write's answer gave it."""
        self.read[user["id"]] = (time.monotonic(), user)
        return user

    def _saw(self, page: int, users: list[Account]) -> None:
        at = time.monotonic()
        for user in users:
            self.page[user["id"]], self.read[user["id"]] = page, (at, user)


def key(email: str | None) -> str | None:
    """The matching key: the email trimmed and lower-cased."""
    return email.strip().lower() or None if email else None


def importable(people: list[Person]) -> list[Person]:
    """Employees Cards can take: a valid email of their own, names within 190 characters."""
    counts = Counter(p["email"] for p in people if p["email"])
    return [p for p in people if p["email"] and counts[p["email"]] == 1
            and EMAIL.fullmatch(p["email"]) and p["given"] and p["family"]
            and max(len(p["given"]), len(p["family"])) <= NAME_LIMIT]


class Accounts:
    """The Cards accounts of a sweep: by matching key (two with one key: ambiguous), by id."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.by_id = {u["id"]: u for u in users}
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        for user in users:
            if key(user.get("email")):
                self.by_key.setdefault(key(user["email"]) or "", []).append(user)

    def match(self, person: Person, links: Links) -> Account | str:
        """The employee's account, :data:`CREATE` (none yet) or :data:`SKIP`.

        Skipped: an email two accounts share, or a linked account with another email (the
        life-cycle sync changes that email; a second account would split the learner).
        """
        link = links.get(person["id"])
        linked = self.by_id.get(link["account"]) if link else None
        if linked is not None and key(linked.get("email")) != person["email"]:
            return SKIP
        found = self.by_key.get(person["email"] or "", [])
        return SKIP if len(found) > 1 else found[0] if found else CREATE


def load_links(state: str | None) -> Links:
    """The script's memory of the previous runs (empty the first time)."""
    return json.loads(Path(state).read_text()) if state and Path(state).exists() else {}


def remember(links: Links, person: Person, account: Account, group: str | None,
             *, moved: bool = False) -> None:
    """Record the link: the account, its email, the department and the group put in.

    A move the life-cycle sync has not applied yet (``moved`` false) keeps the department
    and group it must leave.
    """
    before = links.get(person["id"]) or {}
    department = person["department"]
    if before.get("account") == account["id"] and not moved:
        if before.get("department") and before["department"] != department:
            department, group = before["department"], before.get("group")
        group = group or before.get("group")
    links[person["id"]] = {"account": account["id"], "email": key(account.get("email")),
                           "department": department, "group": group}


def new_user(person: Person, groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The body of ``POST /v1/users`` for an employee."""
    body: dict[str, Any] = {"firstname": person["given"], "lastname": person["family"],
                            "email": person["email"], "role": "user"}
    if groups:
        body["groups"] = groups
    return body


def import_users(info: dict[str, str], lucca_rate: float, cards_rate: float,
                 state: str | None = None) -> str:
    """Every employee gets an account: linked by email, else created; remembers the links."""
    lucca, _, cards = connect(info, lucca_rate, cards_rate)
    log_in(lucca, info)
    people = importable(employees(lucca))
    accounts, links = Accounts(cards_all(cards, "/users")), load_links(state)
    created = 0
    for person in people:
        account = accounts.match(person, links)
        if account == CREATE:
            account = cards.call("POST", "/users", json=new_user(person))["data"]
            created += 1
        if isinstance(account, dict):
            remember(links, person, account, None)
    if state:
        Path(state).write_text(json.dumps(links))
    return f"baseline users: {created} created, {len(people) - created} linked or skipped"


class Groups:
    """Group name → id (the first of a name), learnt from groups seen and from answers."""

    def __init__(self, groups: Iterable[dict[str, Any]]) -> None:
        self.ids: dict[str, str] = {}
        for group in groups:
            self.ids.setdefault(group["name"], group["id"])

    def ref(self, name: str) -> dict[str, str]:
        return {"id": self.ids[name]} if name in self.ids else {"name": name}

    def holds(self, user: dict[str, Any], name: str) -> bool:
        if name in self.ids:
            return any(g["id"] == self.ids[name] for g in user["groups"])
        return any(g["name"] == name for g in user["groups"])

    def learn(self, user: dict[str, Any]) -> None:
        for group in user["groups"]:
            self.ids.setdefault(group["name"], group["id"])


def join(cards: Api, groups: Groups, fresh: Fresh, person: Person, account: Account | str,
         name: str) -> Account:
    """Put the employee's account in group ``name``: create it there, or one PUT."""
    user: Account
    if not isinstance(account, dict):  # CREATE
        user = cards.call("POST", "/users", json=new_user(person, [groups.ref(name)]))["data"]
    elif groups.holds(account, name):
        return account
    else:
        latest = fresh.current(account)
        if groups.holds(latest, name):
            return latest
        current = [{"id": g["id"]} for g in latest["groups"]]
        user = cards.call("PUT", f"/users/{latest['id']}",
                          json={"groups": [*current, groups.ref(name)]})["data"]
    groups.learn(fresh.wrote(user))
    return user


def import_departments(info: dict[str, str], lucca_rate: float, cards_rate: float,
                       state: str, *, max_age: float = 300.0) -> str:
    """Every department becomes a group holding its employees; remembers the links.

    The joins go in the order of the accounts' sweep (see :class:`Fresh`).
    """
    lucca, _, cards = connect(info, lucca_rate, cards_rate)
    log_in(lucca, info)
    names = department_names(lucca)
    people = importable(employees(lucca))
    fresh = Fresh(cards, max_age)
    accounts, links = Accounts(fresh.sweep()), load_links(state)
    groups = Groups(cards_all(cards, "/groups"))
    plan = [(person, accounts.match(person, links)) for person in people]
    joined = 0
    for person, account in sorted(plan, key=lambda pair: fresh.position(pair[1])):
        name = names.get(person["department"] or "", "")
        if name and account != SKIP:
            remember(links, person, join(cards, groups, fresh, person, account, name), name)
            joined += 1
    Path(state).write_text(json.dumps(links))
    return f"baseline departments: {joined} employees in their department's group"


def sync_changes(info: dict[str, str], lucca_rate: float, cards_rate: float,
                 state: str, *, max_age: float = 300.0) -> str:
    """Hires get an account in their group; a mover changes group; an email change, one PUT.

    Reads every status, as leavers are found among the deactivated (reported only, the
    SDK's default rule); the groups are learnt from the accounts' memberships.
    """
    lucca, _, cards = connect(info, lucca_rate, cards_rate)
    log_in(lucca, info)
    names = department_names(lucca)
    everyone = employees(lucca, None)
    fresh = Fresh(cards, max_age)
    users = fresh.sweep()
    accounts, links = Accounts(users), load_links(state)
    groups = Groups(g for user in users for g in user["groups"])
    at_work = [p for p in everyone if p["status"] in AT_WORK]
    can = {p["id"] for p in importable(at_work)}
    leavers = len(set(links) - {p["id"] for p in at_work})
    writes = 0
    at_work.sort(key=lambda p: fresh.position(accounts.by_id.get(
        (links.get(p["id"]) or {}).get("account"))))
    for person in at_work:
        link = links.get(person["id"])
        account = accounts.by_id.get(link["account"]) if link else None
        name = names.get(person["department"] or "", "")
        if account is None or link is None:  # a hire, or someone never imported
            found = accounts.match(person, links) if person["id"] in can else SKIP
            account = found if isinstance(found, dict) else None
            user = join(cards, groups, fresh, person, found, name) \
                if name and found != SKIP else None
        else:
            user = _update(cards, groups, fresh, person, link, account, name,
                           accounts.by_key.get(person["email"] or "", []), person["id"] in can)
        if user is not None:
            writes += user is not account
            remember(links, person, user, name, moved=True)
    Path(state).write_text(json.dumps(links))
    return f"baseline sync: {writes} accounts written, {leavers} leavers reported"


def _update(cards: Api, groups: Groups, fresh: Fresh, person: Person, link: dict[str, Any],
            account: Account, name: str, owners: list[Account], valid: bool) -> Account:
    """One PUT with what changed of a linked account: its email, its department's group."""
    body: dict[str, Any] = {}
    original = account
    if valid and person["email"] != link["email"] and all(o["id"] == account["id"]
                                                         for o in owners):
        body["email"] = person["email"]
    if person["department"] != link["department"]:
        account = fresh.current(account)  # the groups a PUT replaces: recent enough
        # Only the group this script put them in is left; any other stays.
        kept = [g for g in account["groups"] if g["name"] != link["group"]]
        wanted = [{"id": g["id"]} for g in kept]
        if name and not groups.holds({"groups": kept}, name):
            wanted.append(groups.ref(name))
        if wanted != [{"id": g["id"]} for g in account["groups"]]:
            body["groups"] = wanted
    if not body:
        return original
    user: Account = cards.call("PUT", f"/users/{account['id']}", json=body)["data"]
    groups.learn(fresh.wrote(user))
    return user
