"""Seed the Cards side of a generated company: the workspace as it is before any import.

Called by :func:`lucca_cards.sandbox.generator.generate_company`. The workspace already
has its owner, external trainers, some employees who signed up on their own (with their
own groups), trainings, badges and certificates; no progress yet.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections import Counter
from collections.abc import Sequence

from . import _names
from ._lucca_seed import CARDS_NAME_LIMIT
from ._model import (
    Badge,
    CardsData,
    CardsGroup,
    CardsUser,
    Certificate,
    Chapter,
    Employee,
    LuccaData,
    Training,
)

CARDS_API = "https://api.cards-microlearning.com"
CARDS_APP = "https://app.cards-microlearning.com"
_CARDS_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SOURCES = ("app", "sso", "GoogleOAuth", "MicrosoftOAuth")
_SOURCE_CUM_WEIGHTS = (80, 86, 94, 100)
_BADGE_STATUSES = ("publish", "publish", "publish", "publish", "draft", "expire")
_BADGE_SHARE = {"publish": 0.15, "expire": 0.1, "draft": 0.0}
# Chance that a self-registered employee is in each pre-existing group (see _groups).
_GROUP_SHARE = (0.15, 0.0, 0.2, 0.03, 0.1)


def normalise_email(email: str) -> str:
    """Return ``email`` as Cards stores it: trimmed, lower case."""
    return email.strip().lower()


def cards_accepts_email(email: str) -> bool:
    """Tell whether Cards would take ``email`` (one "@", no space, a dot in the domain)."""
    return _CARDS_EMAIL.fullmatch(email) is not None


def new_id(rng: random.Random) -> str:
    """Draw a Cards id (a UUID 4) from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _moment(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    return start + (end - start) * rng.random()


def seed_cards(rng: random.Random, cards: CardsData, lucca: LuccaData, *, company: str,
               domain: str, trainings: int, existing: float, since: dt.datetime,
               now: dt.datetime) -> None:
    """Fill ``cards`` with the workspace of ``company`` as it is before the first import.

    ``existing`` is the fraction of employees with a usable email who already have an
    account; ``since``…``now`` bounds the badges' and certificates' timestamps.
    """
    groups = _groups(rng, cards, lucca)
    _cards_only_users(rng, cards, company, domain, groups)
    members = _self_registered(rng, cards, lucca, company, existing, groups)
    _trainings(rng, cards, trainings)
    _badges(rng, cards, members, since, now)
    _certificates(rng, cards, since, now)


def _groups(rng: random.Random, cards: CardsData, lucca: LuccaData) -> list[str]:
    """Create the pre-existing groups; return their ids (the order of ``_GROUP_SHARE``)."""
    counts = Counter(dep.name for dep in lucca.departments.values())
    # A group named like a department, but not the name two branches share.
    like_department = next((dep.name for dep in lucca.departments.values()
                            if dep.parent_id is not None and counts[dep.name] == 1
                            and not dep.is_archived),
                           next(iter(lucca.departments.values())).name)
    names = [*_names.CARDS_GROUPS[:2], like_department, *_names.CARDS_GROUPS[2:]]
    ids = []
    for name in names:
        group_id = new_id(rng)
        cards.groups[group_id] = _group(rng, group_id, name)
        ids.append(group_id)
    return ids


def _group(rng: random.Random, group_id: str, name: str) -> CardsGroup:
    return CardsGroup(id=group_id, name=name, is_public=rng.random() < 0.3,
                      enable_ranking=rng.random() < 0.5)


def _cards_only_users(rng: random.Random, cards: CardsData, company: str, domain: str,
                      groups: Sequence[str]) -> None:
    """Add the workspace owner (a shared mailbox) and the external trainers."""
    first, last, mailbox = _names.OWNER
    owner = CardsUser(id=new_id(rng), firstname=first, lastname=last,
                      email=f"{mailbox}@{domain}", role="owner", company=company,
                      enable_ranking=False)
    cards.users[owner.id] = owner
    for first, last, email, firm in _names.EXTERNAL_TRAINERS:
        trainer = CardsUser(id=new_id(rng), firstname=first, lastname=last, email=email,
                            role="editor", company=firm, enable_ranking=False,
                            group_ids=[groups[1]])
        cards.users[trainer.id] = trainer


def _self_registered(rng: random.Random, cards: CardsData, lucca: LuccaData, company: str,
                     existing: float, groups: Sequence[str]) -> list[str]:
    """Give accounts to ``existing`` of the employees Cards could take; return their ids.

    Whoever has a messy email (spaces, capitals) is among them: their account holds the
    clean address, which a sync must still match.
    """
    counts = Counter(normalise_email(e.email) for e in lucca.employees.values() if e.email)
    eligible = [e for e in lucca.employees.values() if e.email
                and counts[normalise_email(e.email)] == 1
                and cards_accepts_email(normalise_email(e.email))
                and max(len(e.given_name), len(e.family_name)) <= CARDS_NAME_LIMIT]
    if existing <= 0:
        return []
    wanted = round(existing * len(eligible))
    messy = [e for e in eligible if e.email != normalise_email(e.email or "")]
    clean = [e for e in eligible if e.email == normalise_email(e.email or "")]
    chosen = messy + rng.sample(clean, max(0, min(len(clean), wanted - len(messy))))
    ids = []
    for index, employee in enumerate(chosen):
        user = _account(rng, employee, company, groups, first=index == 0)
        cards.users[user.id] = user
        ids.append(user.id)
    return ids


def _account(rng: random.Random, employee: Employee, company: str, groups: Sequence[str],
             *, first: bool) -> CardsUser:
    role = "editor" if rng.random() < 0.05 else "user"
    group_ids = [group for group, share in zip(groups, _GROUP_SHARE, strict=True)
                 if rng.random() < share or (first and group in (groups[0], groups[2]))]
    if role == "editor":
        group_ids.append(groups[1])
    return CardsUser(
        id=new_id(rng), firstname=employee.given_name, lastname=employee.family_name,
        email=normalise_email(employee.email or ""), role=role,
        company=company if rng.random() < 0.7 else None,
        phone=employee.phone_number if rng.random() < 0.2 else None,
        source=rng.choices(_SOURCES, cum_weights=_SOURCE_CUM_WEIGHTS)[0],
        enable_ranking=rng.random() < 0.8, lang="en" if rng.random() < 0.1 else "fr",
        group_ids=group_ids)


def _trainings(rng: random.Random, cards: CardsData, count: int) -> None:
    """Create ``count`` trainings: one draft (from two on), a third public, quizzes."""
    pool = rng.sample(_names.TRAININGS, len(_names.TRAININGS))
    draft = rng.randrange(count) if count >= 2 else -1
    quizzed = 1 if draft == 0 else 0  # a published training surely has a quiz
    groups = list(cards.groups)
    for index in range(count):
        title, description, category = pool[index % len(pool)]
        if index >= len(pool):
            title = f"{title} (session {index // len(pool) + 1})"
        training_id = new_id(rng)
        public = index % 3 == 0
        cards.trainings[training_id] = Training(
            id=training_id, title=title, description=description,
            status="draft" if index == draft else "publish",
            image=f"{CARDS_API}/storage/{cards.tenant}/trainings/{training_id}.jpg",
            public_url=f"{CARDS_APP}/{cards.tenant}/trainings/{training_id}",
            category=category,
            chapters=_chapters(rng, final_quiz=index == quizzed or rng.random() < 0.5),
            is_public=public, is_rating=rng.random() < 0.4,
            group_ids=[] if public else rng.sample(groups, min(len(groups), rng.randint(1, 2))))


def _chapters(rng: random.Random, *, final_quiz: bool) -> list[Chapter]:
    titles = [_names.CHAPTER_OPENING, *rng.sample(_names.CHAPTER_TITLES, rng.randint(2, 7))]
    if final_quiz:
        titles[-1] = _names.CHAPTER_CLOSING_QUIZ
    chapters = []
    for position, title in enumerate(titles, start=1):
        quiz = title == _names.CHAPTER_CLOSING_QUIZ or (position > 1 and rng.random() < 0.2)
        chapters.append(Chapter(id=new_id(rng), title=title, position=position,
                                points=5 if quiz else rng.randint(1, 3), has_quiz=quiz))
    return chapters


def _badges(rng: random.Random, cards: CardsData, members: Sequence[str],
            since: dt.datetime, now: dt.datetime) -> None:
    """Create the badges; self-registered users have unlocked some (the first, surely)."""
    for index, (name, description, emoji, short, code) in enumerate(_names.BADGES):
        status = _BADGE_STATUSES[index % len(_BADGE_STATUSES)]
        share = 0.5 if index == 0 else _BADGE_SHARE[status]
        unlocked = [user for user in members if rng.random() < share]
        if index == 0 and members and not unlocked:
            unlocked = [members[0]]
        created = _moment(rng, since, now)
        badge = Badge(
            id=new_id(rng), name=name, description=description,
            image=f"{CARDS_API}/storage/{cards.tenant}/badges/{code}.png",
            emoji={"i": emoji, "n": [short], "r": f":{short}:", "t": "", "u": code},
            status=status, option_teasing=rng.random() < 0.5, notif=rng.random() < 0.7,
            created_at=created, updated_at=_moment(rng, created, now), user_ids=unlocked)
        cards.badges[badge.id] = badge


def _certificates(rng: random.Random, cards: CardsData, since: dt.datetime,
                  now: dt.datetime) -> None:
    """Create the certificate templates, the last one still a draft."""
    last = len(_names.CERTIFICATES) - 1
    for index, (name, description) in enumerate(_names.CERTIFICATES):
        created = _moment(rng, since, now)
        certificate = Certificate(
            id=new_id(rng), name=name, description=description,
            content=_names.CERTIFICATE_CONTENT, status="draft" if index == last else "publish",
            option_teasing=rng.random() < 0.3, notif=rng.random() < 0.8, created_at=created,
            updated_at=_moment(rng, created, now))
        cards.certificates[certificate.id] = certificate
