from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, ConnectionMode, Secret, Settings, StatsFieldCodes

TOML = f"""
[lucca]
url = "https://acme.ilucca.net"
client_id = "client-1"
client_secret = "{SECRET_MARK}-oauth"
api_key = "{SECRET_MARK}-legacy"
requests_per_minute = 30

[cards]
tenant = "acme"
api_key = "{SECRET_MARK}-cards"
webhook_secret = "{SECRET_MARK}-hook"

[stats]
enabled = true
field = "e_trainings"
score = "e_grade"

[import]
notify = true
connection_mode = "sso"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lucca-cards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_design() -> None:
    s = Settings()
    assert s.lucca_token_url == "https://accounts.world.luccasoftware.com/connect/token"
    assert s.lucca_scopes == "departments.readonly employees.readwrite"
    assert s.lucca_api_version == "2024-11-01"
    assert s.cards_url == "https://api.cards-microlearning.com/v1"
    assert (s.lucca_requests_per_minute, s.cards_requests_per_minute) == (40, 60)
    assert s.stats_codes == StatsFieldCodes()
    assert s.stats_codes.field == "e_formation"
    assert s.import_connection_mode is ConnectionMode.PASSWORD
    assert s.stats_enabled is False and s.import_notify is False


def test_toml_file_is_read_into_every_setting(tmp_path: Path) -> None:
    s = Settings.from_toml(write(tmp_path, TOML))
    assert s.lucca_url == "https://acme.ilucca.net"
    assert isinstance(s.lucca_client_secret, Secret)
    assert s.lucca_client_secret.reveal() == f"{SECRET_MARK}-oauth"
    assert s.lucca_requests_per_minute == 30
    assert s.cards_tenant == "acme"
    assert s.stats_enabled is True
    assert s.stats_codes.field == "e_trainings"
    assert s.stats_codes.score == "e_grade"
    assert s.stats_codes.title == "e_title"
    assert s.import_notify is True
    assert s.import_connection_mode is ConnectionMode.SSO


def test_environment_variables() -> None:
    env = {
        "LUCCA_URL": "https://acme.ilucca.net", "LUCCA_API_KEY": f"{SECRET_MARK}-k",
        "CARDS_TENANT": "acme", "CARDS_IMPORT_NOTIFY": "yes",
        "CARDS_IMPORT_CONNECTION_MODE": "SSO", "LUCCA_STATS_ENABLED": "1",
        "LUCCA_STATS_LAST_COMPLETION_DATE": "e_done", "CARDS_REQUESTS_PER_MINUTE": "30",
        "UNRELATED": "x",
    }
    s = Settings.from_env(env)
    assert s.lucca_api_key is not None and s.lucca_api_key.reveal() == f"{SECRET_MARK}-k"
    assert s.import_notify is True and s.stats_enabled is True
    assert s.import_connection_mode is ConnectionMode.SSO
    assert s.stats_codes.last_completion_date == "e_done"
    assert s.cards_requests_per_minute == 30.0


def test_precedence_is_file_then_env_then_keywords(tmp_path: Path) -> None:
    path = write(tmp_path, TOML)
    env = {"CARDS_TENANT": "from-env", "LUCCA_CLIENT_ID": "env-client"}
    s = Settings.load(path, environ=env, cards_tenant="from-kwargs")
    assert s.cards_tenant == "from-kwargs"
    assert s.lucca_client_id == "env-client"
    assert s.lucca_url == "https://acme.ilucca.net"


def test_repr_masks_every_secret(tmp_path: Path) -> None:
    s = Settings.from_toml(write(tmp_path, TOML))
    assert SECRET_MARK not in repr(s)
    assert SECRET_MARK not in str(s)
    assert "Secret('********')" in repr(s)


def test_repr_shows_numbers_as_written() -> None:
    shown = repr(Settings(cards_memberships_max_age=500, lucca_requests_per_minute=12.5,
                          stats_max_removal_share=0.25))
    assert "cards_memberships_max_age=500," in shown  # not 500.0
    assert "lucca_requests_per_minute=12.5," in shown
    assert "cards_requests_per_minute=60," in shown
    assert "stats_max_removal_share=0.25," in shown
    assert "lifecycle_max_offboarded_share=0.05)" in shown


@pytest.mark.parametrize(("kwargs", "setting", "fix"), [
    ({"lucca_url": "http://acme.ilucca.net"}, "lucca_url", "https://"),
    ({"cards_url": "http://api.cards.example/v1"}, "cards_url", "https://"),
    ({"lucca_url": "https://acme.ilucca.net/lucca-api"}, "lucca_url", "root URL"),
    ({"lucca_url": "acme.ilucca.net"}, "lucca_url", "https://acme.ilucca.net"),
    ({"lucca_requests_per_minute": 60}, "lucca_requests_per_minute", "40 or less"),
    ({"lucca_requests_per_minute": "fast"}, "lucca_requests_per_minute", "number"),
    ({"cards_requests_per_minute": -1}, "cards_requests_per_minute", "0 turns"),
    ({"import_connection_mode": "ldap"}, "import_connection_mode", "'password' or 'sso'"),
    ({"stats_enabled": "maybe"}, "stats_enabled", "true or false"),
    ({"stats_title": "title"}, "stats_title", "start with e_"),
    ({"lucca_scopes": "  "}, "lucca_scopes", "default"),
    ({"lucca_colour": "blue"}, "lucca_colour", "not a setting"),
])
def test_invalid_values_name_the_setting_and_the_fix(
    kwargs: dict[str, object], setting: str, fix: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.load(environ={}, **kwargs)
    assert caught.value.setting == setting
    assert fix in str(caught.value)


def test_loopback_http_is_allowed_for_the_sandbox() -> None:
    s = Settings(lucca_url="http://127.0.0.1:8080", cards_url="http://localhost:9000/v1",
                 lucca_token_url="http://[::1]:8080/connect/token")
    assert s.lucca_url == "http://127.0.0.1:8080"


def test_stats_codes_must_be_extended_field_codes() -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatsFieldCodes(progress="progress")
    assert caught.value.setting == "stats_codes.progress"


def test_require_names_the_setting_and_every_way_to_set_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(lucca_url="https://acme.ilucca.net").require("lucca_url", "lucca_client_id")
    message = str(caught.value)
    assert caught.value.setting == "lucca_client_id"
    assert "LUCCA_CLIENT_ID" in message and "client_id under [lucca]" in message


def test_unknown_toml_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_toml(write(tmp_path, '[lucca]\nurll = "https://x.ilucca.net"\n'))
    assert caught.value.setting == "[lucca] urll"


def test_unreadable_or_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings.from_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        Settings.from_toml(write(tmp_path, "[lucca\n"))
