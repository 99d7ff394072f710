"""Per-client rate limits for the anonymous endpoints and sign-in: an in-process sliding window.

Each API process counts on its own, so with N API nodes a client gets up to N times the limit;
that is enough to stop a script flooding the intake or guessing tracking codes. The client is the
connection's peer address. Only a proxy named in MINSHENG_TRUSTED_PROXIES may say otherwise
(X-Forwarded-For, applied by uvicorn as ``minsheng serve`` configures it): a header from anyone
else is ignored, so a client cannot pick a fresh address for each request.

Sign-in is limited per address and, more tightly, per account (failed attempts): one person's
typos pause their own account, not a whole office behind one address.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from models.errors import N_, RateLimited


class TooManyRequests(RateLimited):
    """A client sent more requests than its limit allows; ``retry_after`` says when to try again."""

    kind = "TooManyRequests"

    def __init__(self, message: str, /, *, retry_after: int, **params: object) -> None:
        super().__init__(message, **params)
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

    def release(self, key: str) -> None:
        """Take back the newest hit of ``key`` (an attempt that turned out not to count)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


class AccountPaused(TooManyRequests):
    """Too many failed sign-ins to one account: it takes no attempts until the window frees one."""


def client_key(request: Request) -> str:
    """The address the limits count by: the peer (or what a trusted proxy forwarded), an IPv6
    address by its /64 network, since one subscriber line gets a whole /64 to pick from."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def enforce(limiter: SlidingWindow, request: Request, what: str) -> None:
    """Raise TooManyRequests if ``request``'s client is over ``limiter``'s limit."""
    wait = limiter.hit(client_key(request))
    if wait is not None:
        seconds = _seconds(wait)
        raise TooManyRequests(
            "Too many %(what)s from your connection in a short time. Please wait %(seconds)s "
            "seconds and try again.",
            retry_after=seconds,
            what=what,
            seconds=seconds,
        )


def count_sign_in(request: Request, account: str) -> None:
    """Count a sign-in attempt against ``account``'s limit, then the address's; raise when either is
    spent. An attempt the account's limit refuses does not use up the address's (the office's).

    ``account`` is the key of the account's bucket; call ``uncount_sign_in`` with it when the
    password was right, so that only failed attempts count against the account.
    """
    limits = limits_of(request)
    wait = limits.login_account.hit(account)
    if wait is not None:
        seconds = _seconds(wait)
        raise AccountPaused(
            "Too many wrong passwords for this account in a short time, so it is paused for "
            "now. Please wait %(seconds)s seconds and try again; other accounts can still "
            "sign in. If you have forgotten the password, ask the administrator to reset it.",
            retry_after=seconds,
            seconds=seconds,
        )
    try:
        enforce(limits.login, request, N_("sign-in attempts"))
    except TooManyRequests:
        limits.login_account.release(account)
        raise


def uncount_sign_in(request: Request, account: str) -> None:
    """Take back the attempt ``count_sign_in`` counted against the account: the password was right
    (or the server failed before it could tell)."""
    limits_of(request).login_account.release(account)


class RateLimits:
    """The limits of one app: submissions, tracking look-ups, sign-in attempts (per address, and
    failed ones per account) and anonymous Open311 reads (the public feed; api/routes/open311.py
    counts them)."""

    def __init__(
        self,
        submit: int,
        track: int,
        login: int,
        window: float,
        *,
        open311: int = 0,
        login_account: int = 0,
    ) -> None:
        self.submit = SlidingWindow(submit, window)
        self.track = SlidingWindow(track, window)
        self.login = SlidingWindow(login, window)
        self.login_account = SlidingWindow(login_account, window)
        self.open311 = SlidingWindow(open311, window)


def limits_of(request: Request) -> RateLimits:
    """The app's rate limits."""
    limits: RateLimits = request.app.state.rate_limits
    return limits


# The dependencies are async: counting is a few in-memory operations, and a sync dependency would
# cost every request a hop through the thread pool.
async def limit_submissions(request: Request) -> None:
    """Dependency: count a suggestion submission against the client's limit."""
    enforce(limits_of(request).submit, request, N_("submissions"))


async def limit_tracking(request: Request) -> None:
    """Dependency: count a tracking look-up against the client's limit."""
    enforce(limits_of(request).track, request, N_("tracking look-ups"))
