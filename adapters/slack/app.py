"""The Slack app: slash command → command layer → respond(); Socket Mode or HTTP.

The command is acknowledged at once (Slack allows 3 seconds) and answered through
the response_url when the work is done. Only response_urls on Slack's own hosts
(or on the configured API host, for proxies and tests) are ever POSTed to.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.poster import SlackPoster, make_client
from adapters.slack.render import escape, reply_payloads, section_text_reply
from bot.chat.commands.lookups import ask_about
from bot.chat.replies import CommandContext, ReplyKind
from bot.delivery.pacing import SLACK_LIMITS
from bot.digest.templates import off_loop_for
from bot.wiring import Core

log = logging.getLogger(__name__)

SLACK_RESPONSE_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


class SlackAdapter:
    def __init__(self, core: Core) -> None:
        settings = core.settings
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        self.core = core
        self.client = make_client(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url
        )
        self.poster = SlackPoster(
            self.client,
            core.pacer(replace(SLACK_LIMITS, global_rate=settings.slack_posts_per_second), "slack"),
        )
        core.add_poster(self.poster)
        self.handler = core.command_handler()
        secret = (
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        )
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret or "socket-mode-only",
            process_before_response=False,
            request_verification_enabled=secret is not None,
        )
        self._admin_cache: dict[str, bool] = {}
        self._api_host = (
            urlsplit(settings.slack_api_url).hostname if settings.slack_api_url else None
        )
        self.app.command(settings.slack_command)(self.on_command)
        self.app.action("newsdigest_sections")(self.on_sections_button)
        self.app.action("newsdigest_open")(self.on_open_button)
        self.app.event("app_mention")(self.on_mention)

    async def on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        text = command_text(str(body.get("text", "")))
        user = str(body.get("user_id", ""))
        context = CommandContext(
            channel_id=str(body.get("channel_id", "")),
            user_id=user,
            platform="slack",
            request_id=body.get("trigger_id"),
            check_admin=functools.partial(self.is_admin, user),  # asked only when needed
            tenant=str(body.get("team_id") or "") or None,
        )
        reply = await self.handler.handle(text, context)
        response_url = str(body.get("response_url", ""))
        if not self.response_url_allowed(response_url):
            log.warning(
                "refused to answer through a response_url on %s", urlsplit(response_url).hostname
            )
            return
        # a preview in the channel's own templates renders off the event loop
        templates = reply.preview.templates if reply.preview is not None else None
        for payload in await off_loop_for(templates, lambda: reply_payloads(reply)):
            await respond(**payload, replace_original=False)

    async def on_sections_button(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        """ "Sections" under an article in a digest thread: answer in that thread."""
        await ack()
        source = str((body.get("actions") or [{}])[0].get("value", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts")
        context = CommandContext(
            channel_id=channel,
            user_id=str((body.get("user") or {}).get("id", "")),
            platform="slack",
        )
        reply = await self.handler.handle(
            f"sections {source}" if source.startswith("http") else "sections", context
        )
        payload = section_text_reply(reply)
        with contextlib.suppress(SlackApiError):
            await client.chat_postMessage(
                channel=channel, thread_ts=thread, unfurl_links=False, **payload
            )

    async def on_mention(self, event: dict[str, Any], client: Any) -> None:
        """ "@newsdigest what did they decide?" in a digest's thread asks about its articles."""
        channel = str(event.get("channel", ""))
        thread = event.get("thread_ts")
        question = re.sub(r"<@[A-Z0-9]+>", " ", str(event.get("text", ""))).strip()
        where = CommandContext(channel_id=channel, platform="slack").where
        digests = await self.core.admin.thread_digests(where, thread)
        reply = await ask_about(self.handler.services, question, digests)
        text = ":warning: " + reply.text if reply.kind is ReplyKind.ERROR else reply.text
        await client.chat_postMessage(
            channel=channel,
            thread_ts=thread or event.get("ts"),
            text=escape(text)[:3000],
            unfurl_links=False,
        )

    async def on_open_button(self, ack: Any) -> None:
        await ack()  # a link button: Slack opens the URL itself

    def response_url_allowed(self, url: str) -> bool:
        """Slack's own hooks hosts over https, or the configured API host (a proxy or a test server)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host in SLACK_RESPONSE_HOSTS:
            return parts.scheme == "https"
        return (
            self._api_host is not None
            and host == self._api_host
            and parts.scheme in ("http", "https")
        )

    async def is_admin(self, user_id: str) -> bool:
        """Workspace admins and owners, or users listed in NEWSDIGEST_ADMIN_USERS."""
        if user_id in self.core.settings.admin_users:
            return True
        if user_id not in self._admin_cache:
            try:
                info = await self.client.users_info(user=user_id)
                user = info.get("user") or {}
                self._admin_cache[user_id] = bool(user.get("is_admin") or user.get("is_owner"))
            except SlackApiError as exc:
                log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
                return False
        return self._admin_cache[user_id]

    # running --------------------------------------------------------------------------------
    async def serve_http(self, port: int, host: str = "0.0.0.0") -> web.AppRunner:
        web_app = self.app.web_app(path="/slack/events", port=port)
        web_app.middlewares.append(reject_unparseable)
        runner = web.AppRunner(web_app)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("Slack HTTP endpoint listening on %s:%d/slack/events", host, port)
        return runner

    async def serve_socket_mode(self, app_token: str) -> Any:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode")
        return handler


@web.middleware
async def reject_unparseable(request: web.Request, handler: Any) -> web.StreamResponse:
    """bolt parses the body before it checks the signature; a body it cannot parse (one altered
    byte can turn a form into broken JSON) is no signed Slack request: 401, not a 500."""
    try:
        response: web.StreamResponse = await handler(request)
    except ValueError:
        log.info("rejected an unparseable request to %s", request.path)
        return web.Response(status=401, text="invalid request")
    return response


async def start_slack(core: Core, http_port: int | None) -> None:
    """Run until cancelled: Socket Mode when SLACK_APP_TOKEN is set, HTTP otherwise."""
    adapter = SlackAdapter(core)
    try:
        await _run_slack(adapter, http_port)
    finally:
        await adapter.client.close_pool()


async def _run_slack(adapter: SlackAdapter, http_port: int | None) -> None:
    settings = adapter.core.settings
    wait = 5.0
    while True:
        try:
            auth = await adapter.client.auth_test()
            log.info("Slack: signed in as %s in %s", auth.get("user"), auth.get("team"))
            break
        except SlackApiError as exc:
            log.error(
                "Slack rejected the bot token (%s); Slack is disabled", exc.response.get("error")
            )
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Slack (or the network) is down at start: the rest of the bot keeps running
            log.warning("Slack unreachable (%s); retrying in %.0fs", type(exc).__name__, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 300.0)
    if settings.slack_app_token is not None and http_port is None:
        handler = await adapter.serve_socket_mode(settings.slack_app_token.get_secret_value())
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
    else:
        if settings.slack_signing_secret is None:
            log.error("Slack HTTP mode needs SLACK_SIGNING_SECRET; Slack is disabled")
            return
        site = await adapter.serve_http(http_port or 3000)
        try:
            await asyncio.Event().wait()
        finally:
            await site.cleanup()


def command_text(text: str) -> str:
    """A slash command's text as the person typed it: Slack sends &, < and > escaped (a
    template's `{% if count > 1 %}`, a regex's `a&b`); its own <…> links and mentions stay."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
