"""Per-caller throttling: at most `limit` requests per caller in each fixed window.

The policy is a fixed window (one minute by default) per caller key: simple, one counter
write per request, and the same on Lambda and Fargate because the counter lives in the
shared table (orders.adapters.ratelimit), not in a process. Its known cost: a caller may
spend a window's limit at the end of one window and again at the start of the next.

A failing counter store never turns into a 5xx: the request is let through (fail open),
with a warning and a `ThrottleStoreFailures` metric, since refusing every caller because
a counter is unreachable would be an outage made by a safety device.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from orders.observability import MetricName, count, logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Window:
    """One counting window: [start, end) in epoch seconds."""

    start: int
    end: int

    @classmethod
    def containing(cls, now: float, seconds: int) -> Window:
        """The window of `seconds` that `now` falls in; windows start at multiples of it."""
        start = int(now // seconds) * seconds
        return cls(start=start, end=start + seconds)

    def retry_after(self, now: float) -> int:
        """Whole seconds from `now` until this window ends: at least 1, as Retry-After."""
        return max(1, math.ceil(self.end - now))


class RateLimiter(Protocol):
    """The counter store: one counter per caller and window."""

    def hit(self, caller: str, window: Window, limit: int) -> bool:
        """Count one request of `caller` in `window` if fewer than `limit` were counted.

        True when counted (allowed), False when the window is full (nothing counted).
        DependencyUnavailable when the store cannot be reached.
        """


@dataclass(frozen=True, slots=True)
class Decision:
    """What the throttle says about one request."""

    allowed: bool
    # Seconds until the caller's window ends: the Retry-After of a 429 (at least 1).
    retry_after: int
    limit: int


class Throttle:
    """The policy: `limit` requests per caller per `window_seconds`, failing open."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        limit: int,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("limit and window_seconds must be at least 1")
        self.limiter = limiter
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock

    def check(self, caller: str) -> Decision:
        """Count this request for `caller`; allowed unless its window is full."""
        now = self._clock()
        window = Window.containing(now, self.window_seconds)
        retry_after = window.retry_after(now)
        try:
            allowed = self.limiter.hit(caller, window, self.limit)
        except DependencyUnavailable as exc:
            logger.warning(
                "throttle store unavailable; request allowed",
                dependency=exc.dependency,
                operation=exc.operation,
                reason=exc.reason,
                caller=caller,
            )
            count(MetricName.THROTTLE_STORE_FAILURES)
            return Decision(allowed=True, retry_after=retry_after, limit=self.limit)
        if not allowed:
            # No log line of its own: the access log already has the 429 and its caller.
            count(MetricName.THROTTLED)
        return Decision(allowed=allowed, retry_after=retry_after, limit=self.limit)


class InMemoryRateLimiter:
    """Counters in this process: tests, and a container whose repository is not the table.

    Keeps the adapter's contract (count only below the limit, atomically); windows that
    have ended are dropped as new ones start, so memory stays bounded by active callers.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._latest_start = 0

    def hit(self, caller: str, window: Window, limit: int) -> bool:
        with self._lock:
            if window.start > self._latest_start:
                self._latest_start = window.start
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window.start}
            key = (caller, window.start)
            used = self._counts.get(key, 0)
            if used >= limit:
                return False
            self._counts[key] = used + 1
            return True
