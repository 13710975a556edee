"""Settings and client constructors refuse what cannot work, and say so without a secret.

One matrix of bad inputs, from every way a value comes in: ``Settings`` keywords, the
environment (``Settings.from_env(environ=…)``), a TOML file, and the three clients'
constructors. Each case must raise :class:`ConfigurationError` naming the setting the way
it was given (keyword, variable, TOML key), say what is wrong, and never show a secret:
every secret here starts with ``SECRET_MARK``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_MARK
from lucca_cards import (
    CardsClient,
    ConfigurationError,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    RateLimiter,
    Secret,
    Settings,
)

SECRET = f"{SECRET_MARK}-0123456789abcdef"
LUCCA = "https://acme.ilucca.net"
Build = Callable[[Path], object]


def keywords(**values: Any) -> Build:
    return lambda _: Settings.load(environ={}, **values)


def env(**variables: str) -> Build:
    return lambda _: Settings.from_env(environ=variables)


def toml(text: str) -> Build:
    def build(tmp_path: Path) -> Settings:
        path = tmp_path / "lucca-cards.toml"
        path.write_text(text, encoding="utf-8")
        return Settings.load(path, environ={})

    return build


def toml_bytes(data: bytes) -> Build:
    def build(tmp_path: Path) -> Settings:
        path = tmp_path / "lucca-cards.toml"
        path.write_bytes(data)
        return Settings.from_toml(path)

    return build


def oauth(**values: Any) -> Build:
    arguments = {"base_url": LUCCA, "client_id": "cards-integration", "client_secret": SECRET,
                 "rate_limiter": RateLimiter(0), **values}
    return lambda _: LuccaOAuthClient(**arguments)


def legacy(**values: Any) -> Build:
    arguments = {"base_url": LUCCA, "api_key": SECRET, "rate_limiter": RateLimiter(0), **values}
    return lambda _: LuccaLegacyApiClient(**arguments)


def cards(**values: Any) -> Build:
    arguments = {"tenant": "acme", "api_key": SECRET, "rate_limiter": RateLimiter(0), **values}
    return lambda _: CardsClient(**arguments)


def case(build: Build, setting: str, says: str, name: str) -> Any:
    return pytest.param(build, setting, says, id=name)


RATES = [
    case(keywords(lucca_requests_per_minute=float("nan")), "lucca_requests_per_minute", "NaN",
         "kw-rate-nan"),
    case(keywords(cards_requests_per_minute=float("inf")), "cards_requests_per_minute",
         "infinite", "kw-rate-inf"),
    case(keywords(cards_requests_per_minute=float("-inf")), "cards_requests_per_minute",
         "infinite", "kw-rate-minus-inf"),
    case(keywords(cards_requests_per_minute=-1), "cards_requests_per_minute", "negative",
         "kw-rate-negative"),
    case(keywords(lucca_requests_per_minute="fast"), "lucca_requests_per_minute",
         "'fast' is not a number", "kw-rate-word"),
    case(keywords(lucca_requests_per_minute=True), "lucca_requests_per_minute",
         "True is not a number", "kw-rate-bool"),
    case(keywords(lucca_requests_per_minute=60), "lucca_requests_per_minute", "40 or less",
         "kw-rate-above-lucca-limit"),
    case(env(LUCCA_REQUESTS_PER_MINUTE="fast"), "LUCCA_REQUESTS_PER_MINUTE",
         "'fast' is not a number", "env-rate-word"),
    case(env(CARDS_REQUESTS_PER_MINUTE="nan"), "CARDS_REQUESTS_PER_MINUTE", "NaN",
         "env-rate-nan"),
    case(env(CARDS_REQUESTS_PER_MINUTE="1e999"), "CARDS_REQUESTS_PER_MINUTE", "infinite",
         "env-rate-overflow"),
    case(oauth(requests_per_minute=float("nan")), "lucca_requests_per_minute", "NaN",
         "oauth-rate-nan"),
    case(oauth(requests_per_minute=60), "lucca_requests_per_minute", "40 or less",
         "oauth-rate-above-lucca-limit"),
    case(legacy(requests_per_minute=float("inf")), "lucca_requests_per_minute", "infinite",
         "legacy-rate-inf"),
    case(cards(requests_per_minute=-1), "cards_requests_per_minute", "negative",
         "cards-rate-negative"),
    case(cards(requests_per_minute="60"), "cards_requests_per_minute", "is not a number",
         "cards-rate-text"),
]

URLS = [
    case(keywords(lucca_url=f"https://integration:{SECRET}@acme.ilucca.net"), "lucca_url",
         "user name or password", "kw-url-userinfo"),
    case(keywords(cards_url="https://api.cards.example:0/v1"), "cards_url", "port '0'",
         "kw-url-port-0"),
    case(keywords(lucca_url="https://acme.ilucca.net:70000"), "lucca_url", "port '70000'",
         "kw-url-port-70000"),
    case(keywords(lucca_token_url="https://login.example:abc/token"), "lucca_token_url",
         "port 'abc'", "kw-url-port-abc"),
    case(keywords(lucca_url="https://acme .ilucca.net"), "lucca_url", "a space",
         "kw-url-space"),
    case(keywords(cards_url="https://api.cards.example/v1\r\nX-Tenant: other"), "cards_url",
         "a line break", "kw-url-crlf"),
    case(keywords(lucca_url="https://acme.ilucca.net\t"), "lucca_url", "a tab", "kw-url-tab"),
    case(keywords(cards_url="https://api.cards.example/v1?q=1"), "cards_url", "a query",
         "kw-url-query"),
    case(keywords(lucca_token_url=f"https://login.example/token?client_secret={SECRET}"),
         "lucca_token_url", "a query", "kw-url-query-with-secret"),
    case(keywords(lucca_url="https://acme.ilucca.net/#frag"), "lucca_url", "a fragment",
         "kw-url-fragment"),
    case(keywords(cards_url="ftp://api.cards.example/v1"), "cards_url",
         "not an http(s) URL", "kw-url-ftp"),
    case(keywords(lucca_url="http://acme.ilucca.net"), "lucca_url", "Use https://",
         "kw-url-http-public"),
    case(keywords(cards_url="HTTP://api.cards.example/v1"), "cards_url", "Use https://",
         "kw-url-http-upper-case"),
    case(keywords(lucca_url="https://acme.ilucca.net/api/v3"), "lucca_url", "root URL",
         "kw-url-api-path"),
    case(keywords(lucca_url=""), "lucca_url", "blank", "kw-url-empty"),
    case(env(LUCCA_URL=f"https://me:{SECRET}@acme.ilucca.net"), "LUCCA_URL",
         "user name or password", "env-url-userinfo"),
    case(env(CARDS_URL="http://api.cards.example/v1"), "CARDS_URL", "Use https://",
         "env-url-http-public"),
    case(oauth(base_url=f"https://me:{SECRET}@acme.ilucca.net"), "lucca_url",
         "user name or password", "oauth-url-userinfo"),
    case(oauth(token_url="http://login.example/token"), "lucca_token_url", "Use https://",
         "oauth-token-url-http-public"),
    case(legacy(base_url=f"{LUCCA}/api/v3"), "lucca_url", "root URL", "legacy-url-api-path"),
    case(legacy(base_url="https://acme.ilucca.net:70000"), "lucca_url", "port '70000'",
         "legacy-url-port"),
    case(cards(base_url="https://api.cards.example/v1#users"), "cards_url", "a fragment",
         "cards-url-fragment"),
    case(cards(base_url="https://api.cards.example/v1\n"), "cards_url", "a line break",
         "cards-url-newline"),
]

SECRETS = [
    case(keywords(lucca_client_secret=""), "lucca_client_secret", "is empty",
         "kw-secret-empty"),
    case(keywords(cards_api_key="   "), "cards_api_key", "only blanks", "kw-secret-blanks"),
    case(keywords(lucca_api_key=f"{SECRET}\n{SECRET_MARK}-next-line"), "lucca_api_key",
         "a line break", "kw-secret-multi-line"),
    case(keywords(cards_webhook_secret=12345), "cards_webhook_secret", "int, not text",
         "kw-secret-int"),
    case(keywords(lucca_client_secret=SECRET.encode()), "lucca_client_secret", "bytes",
         "kw-secret-bytes"),
    case(keywords(cards_api_key=f"{SECRET}\u2026"), "cards_api_key",
         "an HTTP header cannot carry", "kw-secret-not-ascii-in-header"),
    case(keywords(lucca_api_key=f"{SECRET}\x00"), "lucca_api_key", "control character",
         "kw-secret-nul"),
    case(env(CARDS_API_KEY=""), "CARDS_API_KEY", "is empty", "env-secret-empty"),
    case(env(LUCCA_CLIENT_SECRET=f"{SECRET}\r\n{SECRET_MARK}-x"), "LUCCA_CLIENT_SECRET",
         "a line break", "env-secret-multi-line"),
    case(oauth(client_secret=""), "lucca_client_secret", "is empty", "oauth-secret-empty"),
    case(oauth(client_secret=f"{SECRET}\n{SECRET}"), "lucca_client_secret", "a line break",
         "oauth-secret-multi-line"),
    case(oauth(client_secret=Secret("  ")), "lucca_client_secret", "only blanks",
         "oauth-secret-blank-secret-object"),
    case(legacy(api_key=SECRET.encode()), "lucca_api_key", "bytes", "legacy-key-bytes"),
    case(legacy(api_key=42), "lucca_api_key", "int, not text", "legacy-key-int"),
    case(cards(api_key=None), "cards_api_key", "not set", "cards-key-none"),
    case(cards(webhook_secret="  \t "), "cards_webhook_secret", "only blanks",
         "cards-webhook-secret-blank"),
    case(cards(webhook_secret=f"{SECRET}\n{SECRET}"), "cards_webhook_secret",
         "a line break", "cards-webhook-secret-multi-line"),
]

TEXTS = [
    case(keywords(cards_tenant=""), "cards_tenant", "blank", "kw-tenant-empty"),
    case(keywords(cards_tenant="   "), "cards_tenant", "blank", "kw-tenant-blanks"),
    case(keywords(cards_tenant="acme\nbeta"), "cards_tenant", "a line break",
         "kw-tenant-multi-line"),
    case(keywords(lucca_client_id="cards\tintegration"), "lucca_client_id",
         "control character", "kw-client-id-tab"),
    case(keywords(lucca_scopes="  "), "lucca_scopes", "default", "kw-scopes-blank"),
    case(keywords(cards_signature_header="Signature: sha256"), "cards_signature_header",
         "not an HTTP header name", "kw-signature-header-with-value"),
    case(keywords(import_connection_mode="ldap"), "import_connection_mode",
         "'password' or 'sso'", "kw-connection-mode"),
    case(keywords(stats_enabled="maybe"), "stats_enabled", "true or false", "kw-flag-maybe"),
    case(keywords(lucca_client_secrt=SECRET), "lucca_client_secrt",
         "did you mean lucca_client_secret?", "kw-misspelt-name"),
    case(env(CARDS_TENANT="acme\r\nbeta"), "CARDS_TENANT", "a line break",
         "env-tenant-multi-line"),
    case(env(LUCCA_STATS_ENABLED="maybe"), "LUCCA_STATS_ENABLED", "true or false",
         "env-flag-maybe"),
    case(env(LUCCA_STATS_TITLE="title"), "LUCCA_STATS_TITLE", "start with e_",
         "env-stats-code"),
    case(oauth(client_id=""), "lucca_client_id", "blank", "oauth-client-id-empty"),
    case(oauth(client_id=42), "lucca_client_id", "int, not text", "oauth-client-id-int"),
    case(oauth(scopes=[]), "lucca_scopes", "empty list", "oauth-scopes-empty-list"),
    case(oauth(api_version="2024-11-01\n2025"), "lucca_api_version", "a line break",
         "oauth-api-version-multi-line"),
    case(cards(tenant=""), "cards_tenant", "blank", "cards-tenant-empty"),
    case(cards(tenant="acme\nbeta"), "cards_tenant", "a line break",
         "cards-tenant-multi-line"),
    case(cards(signature_header="X Signature"), "cards_signature_header",
         "not an HTTP header name", "cards-signature-header-blank"),
]

TOML_FILES = [
    case(toml_bytes(b'[cards]\ntenant = "caf\xe9"\n'), "config file", "not UTF-8",
         "toml-latin-1"),
    case(toml(f'[lucca]\nclient_secrt = "{SECRET}"\n'), "[lucca] client_secrt",
         "did you mean [lucca] client_secret?", "toml-misspelt-key"),
    case(toml(f'[luca]\nclient_secret = "{SECRET}"\n'), "[luca] client_secret",
         "did you mean [lucca] client_secret?", "toml-misspelt-table"),
    case(toml("[card]\n"), "[card]", "did you mean [cards]?", "toml-misspelt-empty-table"),
    case(toml(f'url = "{LUCCA}"\n'), "url", "did you mean [lucca] url or [cards] url?",
         "toml-key-outside-tables"),
    case(toml('[lucca]\nrequests_per_minute = "fast"\n'),
         "[lucca] requests_per_minute (LUCCA_REQUESTS_PER_MINUTE)", "'fast' is not a number",
         "toml-rate-word"),
    case(toml("[cards]\nrequests_per_minute = nan\n"),
         "[cards] requests_per_minute (CARDS_REQUESTS_PER_MINUTE)", "NaN", "toml-rate-nan"),
    case(toml('[stats]\nenabled = "maybe"\n'), "[stats] enabled (LUCCA_STATS_ENABLED)",
         "true or false", "toml-flag-maybe"),
    case(toml("[cards]\napi_key = 12345\n"), "[cards] api_key (CARDS_API_KEY)",
         "int, not text", "toml-secret-int"),
    case(toml('[cards]\ntenant = ""\n'), "[cards] tenant (CARDS_TENANT)", "blank",
         "toml-tenant-empty"),
    case(toml(f'[lucca]\nurl = "https://me:{SECRET}@acme.ilucca.net"\n'),
         "[lucca] url (LUCCA_URL)", "user name or password", "toml-url-userinfo"),
    case(toml("[lucca]\nurl = 443\n"), "[lucca] url (LUCCA_URL)", "int, not text",
         "toml-url-int"),
    case(toml("[stats]\nfield = 5\n"), "[stats] field (LUCCA_STATS_FIELD)", "start with e_",
         "toml-stats-code-int"),
    case(toml('[import]\nconnection_mode = "ldap"\n'),
         "[import] connection_mode (CARDS_IMPORT_CONNECTION_MODE)", "'password' or 'sso'",
         "toml-connection-mode"),
]

STATS_AND_STATE = [
    case(keywords(stats_max_removal_share=10), "stats_max_removal_share", "0.1 for 10 %",
         "removal-share-percent"),
    case(keywords(stats_max_removal_share=-0.1), "stats_max_removal_share",
         "not a share from 0 to 1", "removal-share-negative"),
    case(keywords(stats_max_removal_share=True), "stats_max_removal_share",
         "not a share", "removal-share-bool"),
    case(env(LUCCA_STATS_MAX_REMOVAL_SHARE="nan"), "LUCCA_STATS_MAX_REMOVAL_SHARE",
         "not a share", "removal-share-nan"),
    case(toml('[stats]\nmax_removal_share = "ten"\n'),
         "[stats] max_removal_share (LUCCA_STATS_MAX_REMOVAL_SHARE)", "'ten' is not a share",
         "toml-removal-share-word"),
    case(keywords(state_database=""), "state_database", "blank", "state-database-empty"),
    case(env(LUCCA_CARDS_DATABASE="state\n.sqlite"), "LUCCA_CARDS_DATABASE", "a line break",
         "state-database-multi-line"),
    case(toml("[state]\ndatabase = 3\n"), "[state] database (LUCCA_CARDS_DATABASE)",
         "int, not text", "toml-state-database-int"),
    case(toml('[state]\ndatabse = "x.sqlite"\n'), "[state] databse",
         "did you mean [state] database?", "toml-state-misspelt"),
]

LIFECYCLE = [
    case(keywords(lifecycle_leavers="nuke"), "lifecycle_leavers",
         "expected 'report' or 'remove-from-groups' or 'delete'", "leavers-unknown"),
    case(env(LUCCA_CARDS_LEAVERS="remove"), "LUCCA_CARDS_LEAVERS", "'remove' is invalid",
         "leavers-env-abbreviated"),
    case(toml('[lifecycle]\nleavers = true\n'),
         "[lifecycle] leavers (LUCCA_CARDS_LEAVERS)", "True is invalid", "toml-leavers-bool"),
    case(keywords(lifecycle_departments="some"), "lifecycle_departments",
         "expected 'imported' or 'all' or 'none'", "departments-scope-unknown"),
    case(keywords(lifecycle_max_offboarded=-1), "lifecycle_max_offboarded",
         "not a whole number, 0 or more", "max-offboarded-negative"),
    case(env(LUCCA_CARDS_MAX_OFFBOARDED="ten"), "LUCCA_CARDS_MAX_OFFBOARDED",
         "'ten' is not a whole number", "max-offboarded-word"),
    case(keywords(lifecycle_max_offboarded=2.5), "lifecycle_max_offboarded",
         "2.5 is not a whole number", "max-offboarded-float"),
    case(keywords(lifecycle_max_offboarded_share=5), "lifecycle_max_offboarded_share",
         "0.1 for 10 %", "max-offboarded-share-percent"),
    case(toml('[lifecycle]\nmax_offboarded_share = "5%"\n'),
         "[lifecycle] max_offboarded_share (LUCCA_CARDS_MAX_OFFBOARDED_SHARE)",
         "not a share", "toml-max-offboarded-share-text"),
    case(toml('[lifecycle]\nleaver = "delete"\n'), "[lifecycle] leaver",
         "did you mean [lifecycle] leavers?", "toml-lifecycle-misspelt"),
    case(keywords(lucca_webhook_secret="a\nb"), "lucca_webhook_secret", "line break",
         "lucca-webhook-secret-multi-line"),
    case(env(LUCCA_WEBHOOK_SECRET="  "), "LUCCA_WEBHOOK_SECRET", "only blanks",
         "lucca-webhook-secret-blank"),
]


@pytest.mark.parametrize(("build", "setting", "says"),
                         RATES + URLS + SECRETS + TEXTS + TOML_FILES + STATS_AND_STATE + LIFECYCLE)
def test_what_cannot_work_is_refused_by_name_without_a_secret(
    tmp_path: Path, build: Build, setting: str, says: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build(tmp_path)
    error = caught.value
    assert error.setting == setting
    assert says in error.problem
    assert str(error).startswith(f"{setting}: ")
    chained: BaseException | None = error
    while chained is not None:  # the message, its repr, and anything chained to it
        assert SECRET_MARK not in str(chained)
        assert SECRET_MARK not in repr(chained)
        chained = chained.__cause__ or chained.__context__


def test_the_matrix_is_wide() -> None:
    cases = RATES + URLS + SECRETS + TEXTS + TOML_FILES + STATS_AND_STATE + LIFECYCLE
    assert len({c.id for c in cases}) == len(cases) >= 40


@pytest.mark.parametrize(("setting", "value", "client"), [
    ("lucca_url", f"https://me:{SECRET}@acme.ilucca.net", oauth),
    ("lucca_url", "https://acme.ilucca.net/lucca-api", legacy),
    ("lucca_client_secret", f"{SECRET}\n{SECRET}", oauth),
    ("lucca_api_key", "  ", legacy),
    ("lucca_requests_per_minute", float("nan"), legacy),
    ("cards_tenant", "acme\nbeta", cards),
    ("cards_url", "https://api.cards.example/v1?page=2", cards),
    ("cards_webhook_secret", b"bytes", cards),
])
def test_clients_refuse_what_settings_refuse_in_the_same_words(
    tmp_path: Path, setting: str, value: object, client: Callable[..., Build]
) -> None:
    argument = {"lucca_url": "base_url", "cards_url": "base_url", "cards_tenant": "tenant",
                "lucca_client_secret": "client_secret", "lucca_api_key": "api_key",
                "cards_webhook_secret": "webhook_secret",
                "lucca_requests_per_minute": "requests_per_minute"}[setting]
    with pytest.raises(ConfigurationError) as from_settings:
        Settings(**{setting: value})
    with pytest.raises(ConfigurationError) as from_client:
        client(**{argument: value})(tmp_path)
    assert from_client.value.setting == from_settings.value.setting == setting
    assert from_client.value.problem == from_settings.value.problem


def test_the_value_is_named_by_the_source_that_set_it(tmp_path: Path) -> None:
    path = tmp_path / "lucca-cards.toml"
    path.write_text('[lucca]\nrequests_per_minute = "fast"\n', encoding="utf-8")
    # the environment overrides the file's bad value: nothing to refuse
    fixed = Settings.load(path, environ={"LUCCA_REQUESTS_PER_MINUTE": "30"})
    assert fixed.lucca_requests_per_minute == 30.0
    with pytest.raises(ConfigurationError) as by_env:
        Settings.load(path, environ={"LUCCA_REQUESTS_PER_MINUTE": "-5"})
    assert by_env.value.setting == "LUCCA_REQUESTS_PER_MINUTE"
    with pytest.raises(ConfigurationError) as by_keyword:
        Settings.load(path, environ={}, lucca_requests_per_minute=float("inf"))
    assert by_keyword.value.setting == "lucca_requests_per_minute"


def test_surrounding_blanks_are_trimmed_and_what_works_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "lucca-cards.toml"
    # a byte-order mark, as some Windows editors write, is not an encoding error
    path.write_bytes('\ufeff[cards]\ntenant = " acme "\n'.encode())
    assert Settings.from_toml(path).cards_tenant == "acme"
    settings = Settings.from_env(environ={
        "LUCCA_API_KEY": f"{SECRET}\n",  # a secret file's final newline
        "LUCCA_URL": "http://127.0.0.1:8080", "CARDS_URL": "http://[::1]:9000/v1",
        "LUCCA_TOKEN_URL": "http://localhost:8080/connect/token",
        "CARDS_REQUESTS_PER_MINUTE": " 0 ",
    })
    assert settings.lucca_api_key is not None
    assert settings.lucca_api_key.reveal() == SECRET
    assert settings.cards_requests_per_minute == 0.0
    client = CardsClient(tenant=" acme ", api_key=f" {SECRET} ", rate_limiter=RateLimiter(0))
    assert client.tenant == "acme"


@pytest.mark.parametrize("value", [b"bytes", 42, None])
def test_secret_holds_text_only(value: object) -> None:
    with pytest.raises(TypeError, match=f"not {type(value).__name__}"):
        Secret(value)  # type: ignore[arg-type]


def test_a_database_password_never_shows_in_the_settings_repr() -> None:
    url = f"postgresql+psycopg://sync:{SECRET}@db.internal/lucca"
    settings = Settings(state_database=url)
    assert settings.state_database == url
    assert SECRET_MARK not in repr(settings)
    assert "postgresql+psycopg://sync:***@db.internal/lucca" in repr(settings)
