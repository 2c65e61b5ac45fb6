"""The web console's pages: each reads through `ConsoleQueries` (limited to the signed-in
scope) and changes things only through the command layer, on the database threads.

A channel, source, digest or article outside the person's scope is "not found" (404), never
"forbidden", so a page does not even confirm that another workspace's channel exists.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jinja2
from aiohttp import web

from adapters.web.forms import form_for, values_from
from adapters.web.security import (
    SESSION,
    SignInPacer,
    clear_session_cookie,
    cookie_of,
    session_of,
    set_session_cookie,
)
from bot.chat.handler import CommandHandler
from bot.chat.replies import CommandContext, ReplyKind
from bot.delivery.schedule import channel_schedule, slots_between
from bot.models import Digest
from bot.ops.health import health_status
from bot.ops.metrics import METRICS
from bot.ops.signin import SignIns, WebSession
from bot.store.console import ConsoleQueries, ScheduleGroup
from bot.store.repo import ChannelInfo, Store
from bot.wiring import Core

T = TypeVar("T")

# the commands a channel page offers, in the order shown
CHANNEL_FORMS = ("schedule", "settings", "filter", "subscribe", "mention", "template")
WEB_COMMANDS = frozenset({*CHANNEL_FORMS, "unsubscribe", "pause", "resume", "now", "import"})


def _int(value: str | None, default: int = 1, low: int = 1, high: int = 1_000_000) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return min(max(number, low), high)


def safe_href(url: str | None) -> str | None:
    """Only http(s) links become links; anything else (javascript:, data:) is shown as text."""
    if url and url.lower().startswith(("http://", "https://")) and len(url) <= 3000:
        return url
    return None


def channel_label(channel: ChannelInfo) -> str:
    return f"{channel.platform} · {channel.external_id}"


class Console:
    """The pages, bound to the running bot's parts."""

    def __init__(
        self,
        core: Core,
        handler: CommandHandler,
        sign_ins: SignIns,
        runner: Any,
        templates: jinja2.Environment,
        secure_cookies: bool,
    ) -> None:
        self.core = core
        self.store: Store = core.store
        self.handler = handler
        self.queries = ConsoleQueries(core.store)
        self.sign_ins = sign_ins
        self.runner = runner
        self.templates = templates
        self.secure_cookies = secure_cookies
        self.pacer = SignInPacer()

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self.core.workers.db(fn, *args, **kwargs)

    def page(
        self, request: web.Request, name: str, status: int = 200, **values: Any
    ) -> web.Response:
        session = request.get(SESSION)
        body = self.templates.get_template(name).render(
            session=session if isinstance(session, WebSession) else None,
            path=request.path,
            label=channel_label,
            href=safe_href,
            **values,
        )
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")

    def routes(self, app: web.Application) -> None:
        add = app.router
        add.add_get("/", self.overview)
        add.add_get("/signin/{token}", self.signin_page)
        add.add_post("/signin", self.signin)
        add.add_post("/signout", self.signout)
        add.add_get("/channels", self.channels)
        add.add_get("/channels/{id:\\d+}", self.channel)
        add.add_get("/channels/{id:\\d+}/preview", self.preview)
        add.add_post("/channels/{id:\\d+}/run/{command}", self.run_command)
        add.add_get("/sources", self.sources)
        add.add_get("/sources/{id:\\d+}", self.source)
        add.add_post("/sources/{id:\\d+}/resume", self.resume_source)
        add.add_get("/digests", self.digests)
        add.add_get("/digests/{id:\\d+}", self.digest)
        add.add_get("/deliveries", self.deliveries)

    async def unauthorized(self, request: web.Request) -> web.Response:
        return self.page(request, "signed_out.html", status=401)

    # signing in and out --------------------------------------------------------------------
    async def signin_page(self, request: web.Request) -> web.Response:
        """Shows a button; only the POST uses the link, so a link preview (Slack unfurls)
        fetching this page does not burn it."""
        token = request.match_info["token"]
        if not await self.db(self.sign_ins.usable, token):
            return self.page(request, "signin.html", status=410, token=None)
        return self.page(request, "signin.html", token=token)

    async def signin(self, request: web.Request) -> web.Response:
        client = request.remote or "?"
        if not self.pacer.allow(client):
            return self.page(request, "signin.html", status=429, token=None, too_many=True)
        form = await request.post()
        redeemed = await self.db(self.sign_ins.redeem, str(form.get("token", "")))
        if redeemed is None:
            return self.page(request, "signin.html", status=410, token=None)
        cookie, _session = redeemed
        response = web.HTTPSeeOther("/")
        set_session_cookie(response, cookie, self.secure_cookies or request.secure)
        raise response

    async def signout(self, request: web.Request) -> web.Response:
        await self.db(self.sign_ins.sign_out, cookie_of(request))
        response = web.HTTPSeeOther("/")
        clear_session_cookie(response)
        raise response

    # pages ---------------------------------------------------------------------------------
    async def overview(self, request: web.Request) -> web.Response:
        session = session_of(request)
        now = datetime.now(UTC)
        seen = await self.db(self.queries.overview, session.scope, now)
        healthy, health = await self.db(
            health_status, self.store, self.runner, timedelta(minutes=3)
        )
        next_runs = _next_runs(seen.schedules, now)
        waits = {
            platform: int(
                METRICS.registry.get_sample_value(
                    "newsdigest_rate_limited_total", {"platform": platform}
                )
                or 0
            )
            for platform in sorted(self.core.posters)
        }
        return self.page(
            request,
            "overview.html",
            seen=seen,
            healthy=healthy,
            health=health,
            next_runs=next_runs,
            waits=waits,
        )

    async def channels(self, request: web.Request) -> web.Response:
        session = session_of(request)
        query = request.query.get("q", "")[:200]
        found = await self.db(
            self.queries.channels, session.scope, _int(request.query.get("page")), query
        )
        return self.page(request, "channels.html", found=found, q=query)

    async def _channel(self, request: web.Request) -> ChannelInfo:
        session = session_of(request)
        channel = await self.db(self.queries.channel, session.scope, _int(request.match_info["id"]))
        if channel is None:
            raise web.HTTPNotFound(text="No such channel.")
        return channel

    async def channel(self, request: web.Request) -> web.Response:
        channel = await self._channel(request)
        return await self._channel_page(request, channel)

    async def _channel_page(
        self,
        request: web.Request,
        channel: ChannelInfo,
        status: int = 200,
        error: str | None = None,
        posted: Mapping[str, str] | None = None,
        failed_form: str | None = None,
    ) -> web.Response:
        session = session_of(request)
        now = datetime.now(UTC)
        store = self.store
        sources = await self.db(store.channel_sources, channel.id)
        rules = await self.db(store.filters, channel.id)
        mentions = await self.db(store.mentions, channel.id)
        settings = await self.db(store.channel_settings, channel.id)
        drops = await self.db(self.queries.filter_drops, channel.id, now - timedelta(days=7))
        recent = await self.db(self.queries.deliveries, session.scope, 1, "", 10, channel.id)
        numbers = [(str(i), s.url.removeprefix("path:")) for i, s in enumerate(sources, 1)]
        choices = {"source numbers": numbers, "sources": numbers}
        forms = [form_for(self.handler.command(name), choices) for name in CHANNEL_FORMS]
        schedule = channel_schedule(channel)
        upcoming = slots_between(schedule, now, now + timedelta(days=8))[:1] if schedule else []
        defaults = self.core.settings
        return self.page(
            request,
            "channel.html",
            status=status,
            channel=channel,
            sources=sources,
            rules=rules,
            mentions=mentions,
            drops=drops,
            settings=settings,
            defaults=defaults,
            recent=recent,
            forms=forms,
            next_run=upcoming[0][1] if upcoming else None,
            error=error,
            posted=posted or {},
            failed_form=failed_form,
            nonce=secrets.token_urlsafe(16),
        )

    async def run_command(self, request: web.Request) -> web.StreamResponse:
        """A channel form: the command runs as if its admin typed it in that channel."""
        channel = await self._channel(request)
        session = session_of(request)
        name = request.match_info["command"]
        if name not in WEB_COMMANDS:
            raise web.HTTPNotFound(text="No such command.")
        command = self.handler.command(name)
        form = await request.post()
        posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        context = CommandContext(
            channel_id=channel.external_id,
            user_id=session.user_id,
            is_admin=True,
            platform=channel.platform,
            request_id=f"web:{posted.get('nonce', '')}" if posted.get("nonce") else None,
            tenant=channel.tenant,
        )
        reply = await self.handler.run(command, values_from(command, posted), context)
        if reply.kind is ReplyKind.ERROR:
            # nothing was saved: the same page, the error, and what the person typed
            return await self._channel_page(
                request, channel, 400, reply.text, posted, failed_form=name
            )
        await self.db(self.sign_ins.flash, cookie_of(request), reply.text)
        raise web.HTTPSeeOther(f"/channels/{channel.id}")

    async def preview(self, request: web.Request) -> web.Response:
        channel = await self._channel(request)
        digest, parts = await self.core.deliverer.preview(channel)
        return self.page(request, "preview.html", channel=channel, digest=digest, parts=parts)

    async def sources(self, request: web.Request) -> web.Response:
        session = session_of(request)
        state = request.query.get("state", "")
        state = state if state in ("ok", "failing", "paused") else ""
        found = await self.db(
            self.queries.sources, session.scope, _int(request.query.get("page")), state
        )
        return self.page(request, "sources.html", found=found, state=state)

    async def source(self, request: web.Request) -> web.Response:
        session = session_of(request)
        source_id = _int(request.match_info["id"])
        source = await self.db(self.queries.source, session.scope, source_id)
        if source is None:
            raise web.HTTPNotFound(text="No such source.")
        items = await self.db(self.queries.recent_items, source_id)
        channels = await self.db(self.queries.source_channels, session.scope, source_id)
        return self.page(request, "source.html", source=source, items=items, channels=channels)

    async def resume_source(self, request: web.Request) -> web.StreamResponse:
        session = session_of(request)
        source_id = _int(request.match_info["id"])
        if await self.db(self.queries.source, session.scope, source_id) is None:
            raise web.HTTPNotFound(text="No such source.")
        resumed = await self.db(self.store.resume_source, source_id)
        message = (
            "Resumed: the source is read again at the next poll."
            if resumed
            else "That source was not paused."
        )
        await self.db(self.sign_ins.flash, cookie_of(request), message)
        raise web.HTTPSeeOther(f"/sources/{source_id}")

    async def digests(self, request: web.Request) -> web.Response:
        session = session_of(request)
        page = _int(request.query.get("page"))
        query = request.query.get("q", "")[:200].strip()
        if query:
            hits = await self.db(self.queries.search, session.scope, query, page)
            return self.page(request, "digests.html", q=query, hits=hits, found=None)
        found = await self.db(self.queries.digests, session.scope, page)
        return self.page(request, "digests.html", q="", hits=None, found=found)

    async def digest(self, request: web.Request) -> web.Response:
        session = session_of(request)
        line = await self.db(self.queries.delivery, session.scope, _int(request.match_info["id"]))
        if line is None:
            raise web.HTTPNotFound(text="No such digest.")
        digests = await self._digests(line.delivery.article_ids)
        return self.page(request, "digest.html", line=line, digests=digests)

    async def _digests(self, article_ids: list[int]) -> list[Digest]:
        made = await asyncio.gather(*(self.core.digests.get(i) for i in article_ids))
        return [d for d in made if d is not None]

    async def deliveries(self, request: web.Request) -> web.Response:
        session = session_of(request)
        state = request.query.get("state", "")
        state = state if state in ("sending", "sent", "skipped", "failed") else ""
        found = await self.db(
            self.queries.deliveries, session.scope, _int(request.query.get("page")), state
        )
        return self.page(request, "deliveries.html", found=found, state=state)


def _next_runs(groups: list[ScheduleGroup], now: datetime) -> list[tuple[datetime, ScheduleGroup]]:
    """The soonest runs among the schedules channels use (one parse per distinct schedule)."""
    from bot.delivery.schedule import ScheduleError, parse_schedule

    runs = []
    for group in groups:
        try:
            schedule = parse_schedule(group.schedule, group.timezone)
        except ScheduleError:
            continue
        upcoming = slots_between(schedule, now, now + timedelta(days=8))
        if upcoming:
            runs.append((upcoming[0][1], group))
    runs.sort(key=lambda run: run[0])
    return runs[:8]
