"""The token issuer's signing keys: fetched over HTTPS, kept in memory, refetched sparingly.

The fetch is the only I/O of token verification. Keys are fetched on first use and kept
for the life of the process; a token signed with a key we do not hold (the issuer
rotated its keys) triggers one refetch, but never more than one per `min_refresh_seconds`,
so a stream of tokens with made-up `kid`s cannot turn the API into a load on the issuer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from joserfc.jwk import KeySet

from orders.observability import logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

    from joserfc.jwk import Key

    from orders.ports import KeySource

DEPENDENCY = "token issuer"
# A JWKS is a few keys (~1.5 KiB for two RSA keys); anything far larger is not one.
MAX_JWKS_BYTES = 64 * 1024


class HttpKeySource:
    """GET the JWKS document from the issuer (Cognito's, or moto's locally)."""

    def __init__(self, url: str, *, timeout_seconds: float) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"the JWKS URL must be http(s): {url!r}")
        self._url = url
        self._timeout = timeout_seconds

    def fetch(self) -> dict[str, Any]:
        request = urllib.request.Request(self._url, headers={"Accept": "application/json"})  # noqa: S310 (scheme checked above)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                body = response.read(MAX_JWKS_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            logger.error("jwks fetch failed", url=self._url, reason=str(reason))
            raise DependencyUnavailable(DEPENDENCY, "GET jwks", str(reason)) from None
        if len(body) > MAX_JWKS_BYTES:
            logger.error("jwks fetch failed", url=self._url, reason="document too large")
            raise DependencyUnavailable(DEPENDENCY, "GET jwks", "document too large")
        try:
            document = json.loads(body)
        except ValueError:
            logger.error("jwks fetch failed", url=self._url, reason="not JSON")
            raise DependencyUnavailable(DEPENDENCY, "GET jwks", "not JSON") from None
        if not isinstance(document, dict):
            raise DependencyUnavailable(DEPENDENCY, "GET jwks", "not a JWKS document")
        return document


class KeyCache:
    """Signing keys by `kid`, fetched once and refreshed on an unknown `kid` (rate-limited)."""

    def __init__(
        self,
        source: KeySource,
        *,
        min_refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Key] | None = None
        self._last_attempt: float | None = None

    def key(self, kid: str) -> Key | None:
        """The key with this id, or None if the issuer does not publish one.

        DependencyUnavailable when the keys are needed and the issuer cannot give them.
        """
        # Known keys without the lock (the dict is replaced whole, never changed in place),
        # so a refresh in progress never holds up tokens signed with a key we have.
        keys = self._keys
        if keys is not None and kid in keys:
            return keys[kid]
        with self._lock:
            if self._keys is not None and kid in self._keys:
                return self._keys[kid]
            if self._keys is not None and not self._may_refresh():
                return None  # an unknown kid, and we asked the issuer very recently
            if self._keys is None and not self._may_refresh():
                raise DependencyUnavailable(DEPENDENCY, "GET jwks", "recent fetch failed")
            self._refresh()
            assert self._keys is not None
            return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return self._last_attempt is None or self._clock() - self._last_attempt >= self._min_refresh

    def _refresh(self) -> None:
        self._last_attempt = self._clock()
        document = self._source.fetch()
        try:
            key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except Exception as exc:  # joserfc raises several types for a malformed set
            logger.error("jwks malformed", error=type(exc).__name__)
            raise DependencyUnavailable(DEPENDENCY, "parse jwks", "malformed key set") from None
        keys = {key.kid: key for key in key_set.keys if key.kid}
        logger.info("jwks loaded", kids=sorted(keys))
        self._keys = keys
