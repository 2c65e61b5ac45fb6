"""Posting digests with slack_sdk: top message, thread replies, metadata for reconciliation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, cast

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest as RetryRequest
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.render import digest_messages, escape
from bot.delivery.pacing import SLACK_LIMITS, Pacer
from bot.delivery.poster import ChannelDigest, PostError, SentPart
from bot.fastjson import dumps_bytes, loads

log = logging.getLogger(__name__)

METADATA_EVENT = "newsdigest_part"
PAUSING_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "not_authed",
        "missing_scope",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
        "access_denied",
    }
)


def retry_after(headers: Any) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return 60.0
    return 1.0


class PooledWebClient(AsyncWebClient):
    """An AsyncWebClient whose calls share one connection pool.

    Given no session, slack_sdk opens a new aiohttp session for every call, so every post
    paid a new TCP connection and, against slack.com, a TLS handshake: the largest share of
    a rush's CPU after the database. The pool is made on the first call, inside the running
    event loop (a session belongs to the loop it was made in), and closed by `close_pool`."""

    _pool_loop: asyncio.AbstractEventLoop | None = None
    _json_headers: dict[str, str] | None = None

    async def api_call(self, *args: Any, **kwargs: Any) -> AsyncSlackResponse:
        self._pool()
        return await super().api_call(*args, **kwargs)

    async def post_json(self, api_method: str, payload: dict[str, Any]) -> AsyncSlackResponse:
        """`api_call(api_method, json=payload)` for the one call a rush makes thousands of
        (chat.postMessage): the same request, headers, answer and errors, without the SDK's
        per-call preparation (its argument copies, URL join, retry bookkeeping and response
        wrapping took about a fifth of a post's CPU; `make bench`, replicas). `payload` is
        sent as given: no None values, no SDK objects. A connection error is retried as the
        SDK retries it: by the client's retry handlers, their count and their back-off."""
        session = self._pool()
        url = self.base_url + api_method
        if self._json_headers is None:
            self._json_headers = {
                "Content-Type": "application/json;charset=utf-8",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                **self.headers,
            }
        body = dumps_bytes({**self.default_params, **payload})
        state: RetryState | None = None
        while True:
            try:
                async with session.post(
                    url,
                    data=body,
                    headers=self._json_headers,
                    ssl=self.ssl if self.ssl is not None else True,
                    proxy=self.proxy,
                ) as answer:
                    raw = await answer.read()
                    status, headers, typed = answer.status, answer.headers, answer.content_type
                break
            except Exception as exc:
                state = state or RetryState()
                if not await self._retried(exc, url, state):
                    raise
        data: Any = {}
        if raw and typed == "application/json":
            try:
                data = loads(raw)
            except ValueError:
                data = {}  # not JSON after all: refused below as the SDK does (status, no "ok")
        response = AsyncSlackResponse(
            client=self,
            http_verb="POST",
            api_url=url,
            req_args={"json": payload},
            data=data,
            headers=cast(dict[str, Any], headers),
            status_code=status,
        )
        return cast(AsyncSlackResponse, response.validate())  # type: ignore[no-untyped-call]

    async def _retried(self, exc: Exception, url: str, state: RetryState) -> bool:
        """As the SDK's request loop: the first handler that takes the error waits its
        back-off and counts the attempt in `state`; False when none takes it."""
        headers: dict[str, str | list[str]] = dict(self._json_headers or {})
        request = RetryRequest(method="POST", url=url, headers=headers)
        for handler in self.retry_handlers:
            if await handler.can_retry_async(
                state=state, request=request, response=None, error=exc
            ):
                await handler.prepare_for_next_attempt_async(
                    state=state, request=request, response=None, error=exc
                )
                return True
        return False

    def _pool(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self.session is None or self.session.closed or self._pool_loop is not loop:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._pool_loop = loop
        return self.session

    async def close_pool(self) -> None:
        if self.session is not None and self._pool_loop is asyncio.get_running_loop():
            await self.session.close()
        self.session, self._pool_loop = None, None


def sdk_logger() -> logging.Logger:
    """The logger slack_sdk's web client writes to, with a level of its own.

    slack_sdk checks `logger.level <= DEBUG` before it formats each request and response for
    its debug log, and a logger left at NOTSET (0) passes that check: every post then turned
    its whole Block Kit payload and the response's headers into a string nobody logged, the
    largest part of a post's CPU in the client (`make bench`, replicas). Its level is the
    process's own, so with debug logging on the SDK's lines still appear."""
    logger = logging.getLogger("slack_sdk.web.async_base_client")
    logger.setLevel(max(logging.getLogger().getEffectiveLevel(), logging.DEBUG))
    return logger


def make_client(token: str, base_url: str | None = None) -> PooledWebClient:
    # No 429 handler here: the delivery engine waits out Retry-After itself, exactly, and
    # the poster's pacer keeps 429s rare in the first place.
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler(max_retry_count=2)]
    kwargs: dict[str, Any] = {
        "token": token,
        "retry_handlers": handlers,
        "timeout": 30,
        "logger": sdk_logger(),
    }
    if base_url:
        kwargs["base_url"] = base_url.rstrip("/") + "/"
    return PooledWebClient(**kwargs)


def classify(exc: SlackApiError) -> PostError:
    response = exc.response
    error = str(response.get("error", "")) if response is not None else ""
    status = getattr(response, "status_code", 0)
    if status == 429 or error == "ratelimited":
        return PostError(
            "Slack rate limit", retry_after=retry_after(getattr(response, "headers", {}))
        )
    if error in PAUSING_ERRORS:
        return PostError(f"Slack refused the post: {error}", permanent=True)
    return PostError(f"Slack error: {error or status}")


class SlackPoster:
    """Posts at Slack's pace: about one message a second per channel, and a workspace-wide cap."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer(SLACK_LIMITS)

    def render(self, digest: ChannelDigest) -> Sequence[dict[str, Any]]:
        return digest_messages(digest)

    async def send(
        self, channel: str, part: dict[str, Any], part_key: str, thread_ref: str | None
    ) -> SentPart:
        message: dict[str, Any] = {
            "channel": channel,
            "text": part["text"],
            "blocks": part["blocks"],
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": part_key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ref:
            message["thread_ts"] = thread_ref
        await self.pacer.wait(channel)
        try:
            if isinstance(self.client, PooledWebClient):
                response = await self.client.post_json("chat.postMessage", message)
            else:
                response = await self.client.chat_postMessage(**message)
        except SlackApiError as exc:
            error = classify(exc)
            if error.retry_after is not None:
                self.pacer.defer(channel, error.retry_after)
            raise error from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PostError(f"Slack unreachable: {type(exc).__name__}", maybe_sent=True) from exc
        ts = str(response["ts"])
        return SentPart(ts, thread_ref or ts)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        """After a crash: was this part posted already? Looks for our metadata key."""
        try:
            if thread_ref:
                response = await self.client.conversations_replies(
                    channel=channel, ts=thread_ref, include_all_metadata=True, limit=200
                )
            else:
                response = await self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=50
                )
        except SlackApiError as exc:
            raise classify(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PostError(f"Slack unreachable: {type(exc).__name__}") from exc
        messages: list[dict[str, Any]] = response.get("messages", []) or []
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == part_key:
                ts = str(message["ts"])
                return SentPart(ts, thread_ref or ts)
        return None

    async def notice(self, channel: str, text: str) -> None:
        await self.pacer.wait(channel)
        try:
            await self.client.chat_postMessage(
                channel=channel, text=escape(text), unfurl_links=False
            )
        except SlackApiError as exc:
            log.warning("could not post a notice to %s: %s", channel, classify(exc))
