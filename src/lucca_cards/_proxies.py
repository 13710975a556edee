"""The environment's proxies and CA bundle, read once per origin instead of on every request.

``requests`` reads the environment on every request of a session that trusts it: the
proxy variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, in either
case; the system settings on macOS and Windows), the CA bundle (``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE``) and ``~/.netrc``. :class:`EnvironmentSession` reads the first two
with ``requests``' own functions, the first time it talks to an origin, and keeps them:
the same settings, once. A change to the environment is seen by a new session.

It never reads ``~/.netrc``: the clients send their own credentials, and a netrc entry
for an API's host would make ``requests`` replace them with Basic auth (the Lucca token
request posts the client id and secret in its form, and needs none either).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.utils

#: What one origin's requests take from the environment: proxies, and the CA bundle.
Found = tuple[dict[str, str], str | None]


class EnvironmentSession(requests.Session):
    """A session that honours the environment as ``requests`` does, read once per origin.

    Per request, ``proxies`` and ``verify`` given to :meth:`request` still win over the
    environment's, and the session's own ``proxies`` and ``verify`` come last, as in
    ``requests``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no lookup per request, and never ~/.netrc
        self._found: dict[tuple[str, str, str | None], Found] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        """Merge the request's settings with the environment's (as ``requests`` does)."""
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        env_proxies, bundle = self.environment(str(url), no_proxy)
        if proxies is not None:
            for key, value in env_proxies.items():
                proxies.setdefault(key, value)
        if verify is True or verify is None:
            verify = bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def environment(self, url: str, no_proxy: str | None = None) -> Found:
        """Return the environment's proxies for ``url``, and the CA bundle; read once.

        The key is the scheme and the host with its port as written: ``NO_PROXY`` may
        name ``host:port``, and a proxy is chosen by scheme; the path changes neither.
        """
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        found = self._found.get(key)
        if found is None:
            proxies = dict(requests.utils.get_environ_proxies(url, no_proxy=no_proxy))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            # Threads may both read it the first time: the same answer, stored twice.
            found = self._found[key] = (proxies, bundle or None)
        return found
