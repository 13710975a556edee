"""A small hand-built Cards workspace for the fake Cards' tests (a fresh copy per call)."""

from __future__ import annotations

import datetime as dt

from lucca_cards.sandbox._model import (
    Badge,
    CardsData,
    CardsGroup,
    CardsUser,
    Certificate,
    Chapter,
    Progress,
    Training,
)

TENANT = "acme-sandbox"

SALES = "0a1b2c3d-0000-4000-8000-000000000001"
TECH = "0a1b2c3d-0000-4000-8000-000000000002"
RPS = "0a1b2c3d-0000-4000-8000-000000000003"
SALES_LOWER = "0a1b2c3d-0000-4000-8000-000000000004"

ALICE = "1a1b2c3d-0000-4000-8000-000000000001"
JEROME = "1a1b2c3d-0000-4000-8000-000000000002"
OWNER = "1a1b2c3d-0000-4000-8000-000000000003"
NOMAIL = "1a1b2c3d-0000-4000-8000-000000000004"
BOB = "1a1b2c3d-0000-4000-8000-000000000005"

SAFETY = "2a1b2c3d-0000-4000-8000-000000000001"
ONBOARDING = "2a1b2c3d-0000-4000-8000-000000000002"
DRAFT = "2a1b2c3d-0000-4000-8000-000000000003"
DEEP_DIVE = "2a1b2c3d-0000-4000-8000-000000000004"

FIRST_STEPS = "3a1b2c3d-0000-4000-8000-000000000001"
EXPERT = "3a1b2c3d-0000-4000-8000-000000000002"
OLD = "3a1b2c3d-0000-4000-8000-000000000003"

CERTIFIED = "4a1b2c3d-0000-4000-8000-000000000001"
DRAFT_CERT = "4a1b2c3d-0000-4000-8000-000000000002"

CREATED = dt.datetime(2024, 1, 20, 9, 9, tzinfo=dt.timezone.utc)


def _chapters(training: str, count: int, quizzes: set[int], points: int = 4) -> list[Chapter]:
    return [
        Chapter(f"5a1b2c3d-0000-4000-8{training[-1]}00-0000000000{position:02d}",
                f"Chapitre {position}/{count}", position, points,
                has_quiz=position in quizzes)
        for position in range(1, count + 1)
    ]  # fmt: skip


def cards_data() -> CardsData:
    """Return the workspace: 5 users, 4 groups, 4 trainings, 3 badges, 2 certificates."""
    groups = [
        CardsGroup(SALES, "Ventes", is_public=False, enable_ranking=True),
        CardsGroup(TECH, "Tech", is_public=True, enable_ranking=False),
        CardsGroup(RPS, "RPS", is_public=False, enable_ranking=False),
        CardsGroup(SALES_LOWER, "ventes", is_public=False, enable_ranking=False),
    ]
    users = [
        CardsUser(ALICE, "Alice", "Martin", "alice.martin@acme.test", group_ids=[SALES]),
        CardsUser(JEROME, "Jérôme", "D'Almeida", "Jerome.DAlmeida@acme.test", role="editor",
                  company="ACME/Paris", lang="en", group_ids=[TECH]),
        CardsUser(OWNER, "Chloé", "Owner", "owner@acme.test", role="owner",
                  enable_ranking=False),
        CardsUser(NOMAIL, "Sans", "Courriel", None, group_ids=[SALES]),
        CardsUser(BOB, "Bob", "Leroy", "bob@acme.test", source="sso", group_ids=[TECH, RPS]),
    ]  # fmt: skip
    trainings = [
        Training(SAFETY, "Sécurité / Safety", "Les bons gestes", "publish",
                 "https://cdn.acme.test/img/safety.png", "https://app.acme.test/t/safety",
                 "Sécurité", _chapters(SAFETY, 4, {2, 4}), is_rating=True, group_ids=[SALES]),
        Training(ONBOARDING, "Onboarding", "Bienvenue", "publish",
                 "https://cdn.acme.test/img/onboarding.png", "https://app.acme.test/t/onb",
                 "RH", _chapters(ONBOARDING, 3, {3}, points=2), is_public=True),
        Training(DRAFT, "Brouillon", "Pas encore", "draft", "https://cdn.acme.test/img/d.png",
                 "https://app.acme.test/t/draft", "RH", _chapters(DRAFT, 2, set()),
                 group_ids=[TECH]),
        Training(DEEP_DIVE, "Deep dive", "Pour la tech", "publish",
                 "https://cdn.acme.test/img/deep.png", "https://app.acme.test/t/deep", "Tech",
                 _chapters(DEEP_DIVE, 5, {5}), group_ids=[TECH]),
    ]  # fmt: skip
    badges = [
        Badge(FIRST_STEPS, "Premiers pas", "Un premier chapitre", "https://cdn.acme.test/b1.png",
              {"i": "🎉", "n": ["tada"], "r": "", "t": "", "u": "1f389"}, "publish",
              option_teasing=True, notif=False, created_at=CREATED, updated_at=CREATED,
              user_ids=[ALICE, JEROME]),
        Badge(EXPERT, "Expert", "Tout fini", "https://cdn.acme.test/b2.png", {}, "draft",
              option_teasing=False, notif=True, created_at=CREATED, updated_at=CREATED,
              user_ids=[JEROME]),
        Badge(OLD, "Ancien", "Expiré", "https://cdn.acme.test/b3.png", {}, "expire",
              option_teasing=False, notif=False, created_at=CREATED, updated_at=CREATED),
    ]  # fmt: skip
    certificates = [
        Certificate(CERTIFIED, "Certifié", "Parcours complet", "<p>Bravo</p>", "publish",
                    option_teasing=False, notif=True, created_at=CREATED, updated_at=CREATED),
        Certificate(DRAFT_CERT, "Brouillon", "À venir", "<p>…</p>", "draft",
                    option_teasing=True, notif=False, created_at=CREATED, updated_at=CREATED),
    ]  # fmt: skip
    progress = Progress(ALICE, SAFETY, chapters_done=[1], points=4, max_points=4,
                        last_activity=dt.datetime(2024, 3, 1, 8, 0))  # fmt: skip
    return CardsData(
        tenant=TENANT,
        users={user.id: user for user in users},
        groups={group.id: group for group in groups},
        trainings={training.id: training for training in trainings},
        badges={badge.id: badge for badge in badges},
        certificates={item.id: item for item in certificates},
        progress={(ALICE, SAFETY): progress},
    )
