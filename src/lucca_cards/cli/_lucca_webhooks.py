"""``lucca-cards lucca-webhooks register | list | delete``: Lucca's webhook endpoints.

``register`` declares the receiver's URL in Lucca for the life-cycle topics and prints
the signing secret, which Lucca shows only once, with where to put it. Every command asks
for a token with the ``webhook-endpoints.readwrite`` scope only, whatever ``lucca_scopes``
says: the API client must have been granted it in Lucca's integration keys.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any, TextIO
from urllib.parse import urlsplit

from .._untrusted import printable
from ..config import Settings
from ..errors import ServerError, TransportError, UnexpectedResponseError, ValidationError
from ..lucca.client import LuccaOAuthClient
from ..lucca.endpoints import SCOPE, WebhookEndpoint, check_webhook_url
from ..lucca.webhooks import LIFECYCLE_TOPICS
from ._args import add_config_option, add_group
from ._output import FAILED, OK, cut, guarded, print_json

_COLUMNS = (("ID", 8), ("STATUS", 10), ("NAME", 20), ("URL", 44))
_MAYBE_CREATED = (" The endpoint may have been created all the same: check with lucca-cards "
                  "lucca-webhooks list, and delete it (lucca-webhooks delete ID) before "
                  "registering again.")


def webhook_url(text: str) -> str:
    """Parse ``--url``: ``https://``, or ``http://`` to a loopback host (a usage error else)."""
    try:
        return check_webhook_url(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``lucca-webhooks`` command group."""
    actions = add_group(
        commands, "lucca-webhooks", dest="action", metavar="ACTION",
        help="declare, list or delete the endpoints Lucca sends its events to",
        description="Lucca's webhook endpoints (the OAuth client needs the "
        f"{SCOPE} scope, granted in Lucca's integration keys).")
    register = actions.add_parser(
        "register", help="declare the receiver's URL in Lucca; print its secret once",
        description="Create a Lucca webhook endpoint for the life-cycle topics ("
        f"{', '.join(LIFECYCLE_TOPICS)}) and print its signing secret, which Lucca shows "
        "only this once. Refused when an endpoint already sends to the URL.")
    register.add_argument("--url", type=webhook_url, required=True,
                          help="where Lucca POSTs the events: the receiver's /lucca route "
                          "over https:// (http:// only to a loopback host)")
    register.add_argument("--name", default="lucca-cards",
                          help="the endpoint's name in Lucca (lucca-cards)")
    listing = actions.add_parser("list", help="list the webhook endpoints (never a secret)")
    delete = actions.add_parser("delete", help="delete a webhook endpoint",
                                description="Delete a webhook endpoint: Lucca stops "
                                "sending its events.")
    delete.add_argument("id", metavar="ID", help="the endpoint's id (see list)")
    for parser in (register, listing, delete):
        add_config_option(parser)
    for parser in (register, listing, delete):
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    register.set_defaults(run=lambda args: register_command(args))
    listing.set_defaults(run=lambda args: list_command(args))
    delete.set_defaults(run=lambda args: delete_command(args))


def _client(args: argparse.Namespace) -> LuccaOAuthClient:
    return LuccaOAuthClient.from_settings(Settings.load(args.config), scopes=SCOPE)


def register_command(args: argparse.Namespace, *, out: TextIO | None = None,
                     err: TextIO | None = None) -> int:
    """Run ``lucca-cards lucca-webhooks register``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        with _client(args) as lucca:
            taken = [e for e in lucca.webhook_endpoints.list()
                     if same_url(e.webhook_url or "", args.url)]
            if taken:
                ids = ", ".join(printable(e.id) for e in taken)
                print(f"lucca-cards: endpoint {ids} already sends to {printable(args.url)}; "
                      "its secret cannot be shown again. To start over, delete it first: "
                      f"lucca-cards lucca-webhooks delete {printable(taken[0].id)}", file=err)
                return FAILED
            try:
                endpoint = lucca.webhook_endpoints.create(args.url, name=args.name)
            except (ServerError, TransportError, UnexpectedResponseError) as error:
                print(f"lucca-cards: {printable(str(error))}{_MAYBE_CREATED}", file=err)
                return FAILED
        return _print_created(endpoint, args.json, out, err)

    return guarded(command, err, interrupted="If the endpoint was created, its secret is "
                   "lost: check with lucca-cards lucca-webhooks list and delete it.")


def _print_created(endpoint: WebhookEndpoint, as_json: bool, out: TextIO, err: TextIO) -> int:
    secret = endpoint.secret.reveal() if endpoint.secret is not None else None
    if not secret or not secret.isprintable() or printable(secret) != secret:
        print(f"lucca-cards: Lucca created endpoint {printable(endpoint.id)} but its answer "
              "holds no usable secret; delete it (lucca-cards lucca-webhooks delete "
              f"{printable(endpoint.id)}) and register again.", file=err)
        return FAILED
    if as_json:
        print_json({**_as_dict(endpoint), "secret": secret,
                    "secret_goes_to": {"environment": "LUCCA_WEBHOOK_SECRET",
                                       "toml": "[lucca] webhook_secret"}}, out)
    else:
        print("\n".join([
            f"Created Lucca webhook endpoint {printable(endpoint.id)} "
            f"({printable(endpoint.name or '')}) -> {printable(endpoint.webhook_url or '')}",
            f"status: {printable(endpoint.status or 'unknown')}; topics: "
            f"{printable(', '.join(endpoint.topics))}",
            "",
            "Signing secret (shown this once only: Lucca never shows it again):",
            "",
            f"    {secret}",
            "",
            "Give it to the receiver (lucca-cards webhooks serve) in either place:",
            f"  - the environment:  LUCCA_WEBHOOK_SECRET={shlex.quote(secret)}",
            "  - the TOML file (--config), under [lucca]:",
            f"        webhook_secret = {json.dumps(secret)}",
        ]), file=out)
    print("lucca-cards: store the secret now; it is not shown again (lost: delete the "
          "endpoint and register again).", file=err)
    if endpoint.status is not None and endpoint.status != "active":
        print(f"lucca-cards: the endpoint is {printable(endpoint.status)}: Lucca's activation "
              "challenge did not get an answer from the URL. Start the receiver (lucca-cards "
              "webhooks serve answers it even before the secret is set); Lucca tries again, "
              "and lucca-cards lucca-webhooks list shows the endpoint active once it got "
              "through.", file=err)
    return OK


def list_command(args: argparse.Namespace, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Run ``lucca-cards lucca-webhooks list``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        with _client(args) as lucca:
            endpoints = list(lucca.webhook_endpoints.list())
        if args.json:
            print_json([_as_dict(endpoint) for endpoint in endpoints], out)
            return OK
        if not endpoints:
            print("No Lucca webhook endpoint (lucca-cards lucca-webhooks register --url …).",
                  file=out)
            return OK
        lines = [" ".join(f"{name:<{width}}" for name, width in _COLUMNS) + "TOPICS"]
        for endpoint in endpoints:
            cells = (endpoint.id, endpoint.status or "", endpoint.name or "",
                     endpoint.webhook_url or "")
            lines.append(" ".join(f"{cut(printable(cell), width):<{width}}"
                                  for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
                         + printable(",".join(endpoint.topics)))
        print("\n".join(lines), file=out)
        return OK

    return guarded(command, err, interrupted="Nothing was changed.")


def delete_command(args: argparse.Namespace, *, out: TextIO | None = None,
                   err: TextIO | None = None) -> int:
    """Run ``lucca-cards lucca-webhooks delete ID``; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr

    def command() -> int:
        with _client(args) as lucca:
            lucca.webhook_endpoints.delete(args.id)
        if args.json:
            print_json({"deleted": args.id}, out)
        else:
            print(f"Deleted Lucca webhook endpoint {printable(args.id)}: Lucca no longer "
                  "sends its events.", file=out)
        return OK

    return guarded(command, err, interrupted="The endpoint may or may not be deleted: check "
                   "with lucca-cards lucca-webhooks list.")


def _as_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """Return the endpoint for ``--json``: never its secret."""
    return {"id": endpoint.id, "name": endpoint.name, "webhook_url": endpoint.webhook_url,
            "status": endpoint.status, "topics": list(endpoint.topics),
            "api_version": endpoint.api_version,
            "business_establishment_ids": list(endpoint.business_establishment_ids),
            "created_at": endpoint.created_at.isoformat() if endpoint.created_at else None}


def same_url(first: str, second: str) -> bool:
    """Return whether two URLs reach the same receiver route.

    Scheme and host in any case, the default port written or not, a trailing slash or not
    (the receiver serves both).

    >>> same_url("https://Hooks.example/lucca/", "https://hooks.example:443/lucca")
    True
    """
    def key(url: str) -> tuple[str, str, int | None, str, str]:
        parts = urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:  # not a port: compared as it is written
            port = None
        port = port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        return (parts.scheme.lower(), (parts.hostname or "").lower(), port,
                parts.path.rstrip("/"), parts.query)

    return key(first) == key(second)
