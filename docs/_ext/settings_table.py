"""The settings table of ``configuration.rst``, generated from the code at each build.

The names, the TOML keys, the environment variables and the defaults come from
:data:`lucca_cards._config_sources.SOURCES` and :class:`lucca_cards.Settings`; only the
notes are written here, and a setting without one (or a note without its setting) fails
the build, so the table cannot drift from the code.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from lucca_cards import Settings
from lucca_cards._config_sources import CODE_NAMES, SOURCES
from lucca_cards._values import StatsFieldCodes

#: What each setting is for (the default is the code's, shown beside).
NOTES = {
    "lucca_url": "the tenant's root, ``https://acme.ilucca.net``",
    "lucca_client_id": "the API client (integration key) of the Lucca API",
    "lucca_client_secret": "its secret",
    "lucca_token_url": "the OAuth token endpoint, one for every tenant and region",
    "lucca_scopes": "the scopes asked for (real-time provisioning adds "
                    "``webhook-endpoints.readwrite events.readonly``)",
    "lucca_api_version": "the Lucca API version sent in ``Api-Version``",
    "lucca_api_key": "the legacy API key (\"Collaborators: view / create / edit users\", and "
                     "the training field's section)",
    "lucca_requests_per_minute": "at most 50, Lucca's limit per tenant; 0 turns throttling off",
    "lucca_webhook_secret": "the webhook endpoint's secret, shown once by ``lucca-cards "
                            "lucca-webhooks register``; see :doc:`/realtime`",
    "cards_tenant": "the Cards space (``X-Tenant``)",
    "cards_api_key": "the Cards API key",
    "cards_url": "the Cards API's root",
    "cards_requests_per_minute": "0 turns throttling off",
    "cards_webhook_secret": "the secret Cards shows beside the webhook URL",
    "cards_signature_header": "the header holding the webhooks' signature (an assumption)",
    "cards_memberships_max_age": "seconds; ``0``: read each account before writing its "
                                 "groups; see :ref:`memberships-staleness`",
    "stats_enabled": "publish the training statistics",
    "stats_max_removal_share": "a publish that would remove occurrences from more than this "
                               "share of the employee files stops before writing (see "
                               ":doc:`/statistics`)",
    "stats_field": "the code of the training field (compound, multiple occurrences)",
    **{f"stats_{code}": f"the code of its sub-field {code.replace('_', ' ')}"
       for code in CODE_NAMES if code != "field"},
    "import_notify": "Cards emails each created user an invitation",
    "import_connection_mode": "``password`` or ``sso``: how created users sign in",
    "state_database": "a path (in the current directory by default), or a database URL "
                      "(``postgresql+psycopg://user:password@host/db``), whose password "
                      "never shows in a repr (see :doc:`/state`)",
    "lifecycle_leavers": "``report`` (nothing written), ``remove-from-groups`` or ``delete`` "
                         "(only accounts the integration created); see :doc:`/realtime`",
    "lifecycle_departments": "``imported`` (the departments whose Cards group exists), ``all`` "
                             "or ``none``: whose groups hires and movers join and leave",
    "lifecycle_max_offboarded": "with the next one, the safety threshold that holds a mass "
                                "offboarding",
    "lifecycle_max_offboarded_share": "a run that would offboard more than "
                                      "``lifecycle_max_offboarded`` accounts **and** more "
                                      "than this share of the linked ones holds every "
                                      "offboarding until forced",
}


def default_of(name: str) -> Any:
    """Return the code's default of a setting (the stats codes are one attribute)."""
    if name.startswith("stats_") and name[len("stats_"):] in CODE_NAMES:
        return getattr(StatsFieldCodes(), name[len("stats_"):])
    field = attrs.fields_dict(Settings)[name]
    return field.default


def shown(value: Any) -> str:
    """Write a default as a reader types it: ``40``, ``false``, ``password``; ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"``{str(value).lower()}``"
    if isinstance(value, enum.Enum):
        return f"``{value.name.lower().replace('_', '-')}``"
    if isinstance(value, float) and value.is_integer():
        return f"``{int(value)}``"
    return f"``{value}``"


def table() -> str:
    """Return the list-table of every setting: names, default, note."""
    missing, extra = sorted(set(SOURCES) - set(NOTES)), sorted(set(NOTES) - set(SOURCES))
    if missing or extra:
        raise ValueError(f"docs/_ext/settings_table.py: notes missing for {missing}, "
                         f"notes for no setting {extra}")
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 40 22 38",
             "   :class: settings", "", "   * - setting, TOML key, environment variable",
             "     - default", "     - what it is"]
    for name, (table_name, key, variable) in SOURCES.items():
        lines += [f"   * - ``{name}``", "",
                  f"       ``[{table_name}] {key}``", "", f"       ``{variable}``",
                  f"     - {shown(default_of(name))}", f"     - {NOTES[name]}"]
    return "\n".join(lines) + "\n"

