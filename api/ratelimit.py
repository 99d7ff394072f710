"""Per-client rate limits for the anonymous endpoints: an in-process sliding window.

Each API process counts on its own, so with N API nodes a client gets up to N times the limit;
that is enough to stop a script flooding the intake or guessing tracking codes. The client is the
connection's peer address; behind a reverse proxy uvicorn takes it from X-Forwarded-For when the
proxy is trusted (``--forwarded-allow-ips``, default 127.0.0.1).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from models.errors import DomainError


class TooManyRequests(DomainError):
    """A client sent more requests than its limit allows; ``retry_after`` says when to try again."""

    kind = "TooManyRequests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window`` seconds (0 disables the limit)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; None if allowed, else the seconds until the next one would be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self._lock:
            if len(self._hits) > 50_000:
                self._forget_idle(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


def client_key(request: Request) -> str:
    """The address the limits count by."""
    return request.client.host if request.client else "unknown"


def enforce(limiter: SlidingWindow, request: Request, what: str) -> None:
    """Raise TooManyRequests if ``request``'s client is over ``limiter``'s limit."""
    wait = limiter.hit(client_key(request))
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"Too many {what} from your connection in a short time. Please wait {seconds} seconds "
            "and try again.",
            retry_after=seconds,
        )


class RateLimits:
    """The limits of one app: submissions, tracking look-ups and sign-in attempts."""

    def __init__(self, submit: int, track: int, login: int, window: float) -> None:
        self.submit = SlidingWindow(submit, window)
        self.track = SlidingWindow(track, window)
        self.login = SlidingWindow(login, window)


def limits_of(request: Request) -> RateLimits:
    """The app's rate limits."""
    limits: RateLimits = request.app.state.rate_limits
    return limits


# The dependencies are async: counting is a few in-memory operations, and a sync dependency would
# cost every request a hop through the thread pool.
async def limit_submissions(request: Request) -> None:
    """Dependency: count a suggestion submission against the client's limit."""
    enforce(limits_of(request).submit, request, "submissions")


async def limit_tracking(request: Request) -> None:
    """Dependency: count a tracking look-up against the client's limit."""
    enforce(limits_of(request).track, request, "tracking look-ups")
