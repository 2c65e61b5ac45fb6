"""The web console's guards: headers on every response, who is signed in, CSRF, sign-in pacing.

Every response (pages, redirects, errors) carries the same headers: a CSP that allows only
this server's own files (no inline script or style, no framing), nosniff and a same-origin
referrer, so article text that slipped past escaping still could not run. A session is found
from its cookie on every request; every POST but the sign-in itself must carry the session's
CSRF token or it is refused with 403 before any handler runs.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.ops.signin import SignIns, WebSession

COOKIE = "newsdigest_session"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SESSION = web.RequestKey("session", WebSession)
PUBLIC_PATHS = ("/static/", "/signin")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Run = Callable[..., Awaitable[object]]


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: so 403s, 404s and redirects carry the headers too."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


@dataclass
class SignInPacer:
    """At most `burst` sign-in attempts per client address, refilled at `per_minute`: guessing
    a 256-bit token is hopeless anyway, but a flood of attempts costs database writes."""

    burst: int = 10
    per_minute: float = 10.0
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_minute / 60)
        if len(self._buckets) > 10_000:  # forget the oldest rather than grow without bound
            self._buckets.pop(next(iter(self._buckets)))
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1, now)
        return True


def session_of(request: web.Request) -> WebSession:
    found = request.get(SESSION)
    if not isinstance(found, WebSession):
        raise web.HTTPUnauthorized()
    return found


def cookie_of(request: web.Request) -> str:
    return request.cookies.get(COOKIE, "")


def csrf_ok(session: WebSession, given: str) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), given.encode())


def make_session_middleware(
    sign_ins: SignIns, run: Run, unauthorized: Callable[[web.Request], Awaitable[web.Response]]
) -> Middleware:
    @web.middleware
    async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(PUBLIC_PATHS):
            return await handler(request)
        cookie = cookie_of(request)
        session = await run(sign_ins.session, cookie) if cookie else None
        if not isinstance(session, WebSession):
            return await unauthorized(request)
        request[SESSION] = session
        if request.method not in ("GET", "HEAD"):
            form = await request.post()
            if not csrf_ok(session, str(form.get("csrf", ""))):
                raise web.HTTPForbidden(text="This form has expired: reload the page and retry.")
        return await handler(request)

    return sessions


def set_session_cookie(response: web.StreamResponse, cookie: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/",
        max_age=7 * 24 * 3600,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
