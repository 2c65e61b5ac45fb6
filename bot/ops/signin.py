"""Signing in to the web console without passwords: one-time links and the sessions they open.

`/digest web` (a workspace's or server's admin) and `newsdigest web-link` (the operator, on
the host) mint a link valid once and for ten minutes. Redeeming it opens a session limited
to what the link was for: one Slack workspace or Discord server (its `Scope`), or everything
for the operator. Only hashes of links and session ids are stored, so a leaked database
backup signs nobody in; redeeming is one conditional UPDATE, so a link replayed at the same
moment from two browsers (or two replicas) signs in at most one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update

from bot.store.console import OPERATOR, Scope
from bot.store.models import WebSessionRow, WebSignInRow
from bot.store.repo import Store

__all__ = ["OPERATOR", "Scope", "SignInLinks", "SignIns", "WebSession", "sign_in_link"]

Runner = Callable[..., Awaitable[str]]  # runs a blocking call on a database thread
LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(days=7)  # signed out a week after signing in, whatever happens
TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most once a minute


@dataclass(frozen=True)
class WebSession:
    scope: Scope
    user_id: str
    csrf: str
    flash: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class SignIns:
    """Links and sessions, stored in the bot's database (so every replica honours them)."""

    def __init__(self, store: Store, session_idle: timedelta = timedelta(hours=12)) -> None:
        self.store = store
        self.session_idle = session_idle

    # links ---------------------------------------------------------------------------------
    def mint(self, scope: Scope, user_id: str, now: datetime | None = None) -> str:
        """A new one-time token; a workspace scope needs its tenant (else it would be everyone)."""
        if not scope.operator and not scope.tenant:
            raise ValueError("a workspace sign-in needs the workspace")
        now = now or _now()
        token = secrets.token_urlsafe(32)
        with self.store.session_factory.begin() as session:
            session.execute(delete(WebSignInRow).where(WebSignInRow.expires_at < now))
            session.add(
                WebSignInRow(
                    token_hash=_hash(token),
                    platform=scope.platform,
                    tenant=scope.tenant,
                    user_id=user_id[:128],
                    expires_at=now + LINK_LIFETIME,
                    created_at=now,
                )
            )
        return token

    def usable(self, token: str, now: datetime | None = None) -> bool:
        """Whether a link would sign in now (shown before the button; consumes nothing)."""
        now = now or _now()
        with self.store.session_factory() as session:
            row = session.get(WebSignInRow, _hash(token))
            return row is not None and row.used_at is None and row.expires_at > now

    def redeem(self, token: str, now: datetime | None = None) -> tuple[str, WebSession] | None:
        """Use a link: a new session (its cookie value and what it holds), or None when the
        link is unknown, used or expired."""
        now = now or _now()
        key = _hash(token)
        with self.store.session_factory.begin() as session:
            used = session.execute(
                update(WebSignInRow)
                .where(
                    WebSignInRow.token_hash == key,
                    WebSignInRow.used_at.is_(None),
                    WebSignInRow.expires_at > now,
                )
                .values(used_at=now)
            )
            if used.rowcount != 1:  # type: ignore[attr-defined]
                return None
            link = session.get(WebSignInRow, key)
            assert link is not None
            cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            session.add(
                WebSessionRow(
                    id_hash=_hash(cookie),
                    platform=link.platform,
                    tenant=link.tenant,
                    user_id=link.user_id,
                    csrf=csrf,
                    last_seen_at=now,
                    expires_at=now + SESSION_LIFETIME,
                    created_at=now,
                )
            )
            scope = Scope(link.platform, link.tenant)
            return cookie, WebSession(scope, link.user_id, csrf, None)

    # sessions ------------------------------------------------------------------------------
    def session(self, cookie: str, now: datetime | None = None) -> WebSession | None:
        """The signed-in session behind a cookie, or None when unknown, idle too long or over;
        its flash message is handed out once."""
        now = now or _now()
        with self.store.session_factory.begin() as session:
            row = session.get(WebSessionRow, _hash(cookie))
            if row is None:
                return None
            if row.expires_at <= now or now - row.last_seen_at > self.session_idle:
                session.delete(row)
                return None
            flash = row.flash
            if flash is not None or now - row.last_seen_at >= TOUCH_EVERY:
                row.flash, row.last_seen_at = None, now
            return WebSession(Scope(row.platform, row.tenant), row.user_id, row.csrf, flash)

    def flash(self, cookie: str, message: str) -> None:
        """A message for the next page this session sees (the outcome of a form)."""
        with self.store.session_factory.begin() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.id_hash == _hash(cookie))
                .values(flash=message[:4000])
            )

    def sign_out(self, cookie: str) -> None:
        with self.store.session_factory.begin() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == _hash(cookie)))


def sign_in_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/signin/{token}"


class SignInLinks:
    """Mints sign-in links for the command layer (`/digest web`) off the event loop."""

    def __init__(self, sign_ins: SignIns, base_url: str, run: Runner) -> None:
        self.sign_ins = sign_ins
        self.base_url = base_url
        self._run = run

    async def link(self, scope: Scope, user_id: str) -> str:
        token = await self._run(self.sign_ins.mint, scope, user_id)
        return sign_in_link(self.base_url, token)
