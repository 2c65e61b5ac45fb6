"""Posting digests through discord.py's HTTP client: idempotently, with the articles in a thread.

A digest's first part (its header) starts the digest's thread: in a text or announcement
channel a thread from the header message, in a forum or media channel a forum post whose
starter message is the header. The rest of the digest goes in that thread. The part's
`thread_ref` is the channel the rest goes to: the thread's id, or the channel's own id where
there is no thread (a channel of another kind, or one where the bot may not create threads).

Nothing is created twice on a retry or a resume: a message by its nonce; a thread from a
message because Discord refuses a second one (160004) and the thread has the message's id; a
forum post because the bot's active post of that name in that forum is taken instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import aiohttp
import discord
from discord.http import handle_message_parameters

from adapters.discord.render import digest_messages, escape
from bot.delivery.pacing import DISCORD_LIMITS, Pacer
from bot.delivery.poster import ChannelDigest, PostError, SentPart

log = logging.getLogger(__name__)

PAUSING_CODES = frozenset(
    {50001, 50013, 10003, 50007}
)  # Missing Access/Permissions, Unknown Channel
UNKNOWN_CHANNEL = 10003
TAG_REQUIRED = 40067  # a forum that requires a tag on posts: an admin must change that
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
THREAD_CHANNELS = frozenset({0, 5})  # text, announcement: threads start from a message
FORUM_CHANNELS = frozenset({15, 16})  # forum, media: a post is a thread with a starter message
AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day without a message, then archived
# a channel that refused threads is not asked again for this long (each refusal is a 403,
# and Discord bans a bot for a while after 10,000 invalid requests in 10 minutes)
THREADS_RETRY_AFTER = 6 * 3600.0


def allowed_mentions(payload: dict[str, Any]) -> discord.AllowedMentions:
    """Exactly the roles the rendered part names (configured by an admin), never anyone else."""
    roles = (payload.get("allowed_mentions") or {}).get("roles") or []
    if not roles:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False,
        users=False,
        roles=[discord.Object(int(r)) for r in roles],
        replied_user=False,
    )


def to_embeds(payload: dict[str, Any]) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in payload.get("embeds", [])]


COOLOFF_DEFAULT = 600.0


def _retry_after(response: Any) -> float:
    try:
        return max(float(response.headers.get("Retry-After", COOLOFF_DEFAULT)), 1.0)
    except (AttributeError, TypeError, ValueError):
        return COOLOFF_DEFAULT


class DiscordPoster:
    """Sends with a nonce derived from the delivery: a retried send returns the first message
    (Discord enforces nonces for a few minutes; past that a crash between post and record can
    repeat one part — at-least-once)."""

    platform = "discord"

    def __init__(self, client: discord.Client, pacer: Pacer | None = None) -> None:
        self.client = client
        # discord.py follows the per-route buckets its responses announce; the pacer adds what it
        # does not do ahead of time: the 50 requests/s global limit, and a steady per-channel pace
        self.pacer = pacer or Pacer(DISCORD_LIMITS)
        self.cooloff_until = 0.0  # monotonic time; set when Cloudflare bans us (429 without Via)
        self._kinds: dict[str, tuple[int, str | None]] = {}  # channel → (type, guild id)
        # channels that refused threads → when to ask again; an admin is told once per refusal
        self._threads_refused: dict[str, float] = {}

    def render(self, digest: ChannelDigest) -> Sequence[dict[str, Any]]:
        return digest_messages(digest)

    async def send(
        self, channel: str, part: dict[str, Any], part_key: str, thread_ref: str | None
    ) -> SentPart:
        waiting = self.cooloff_until - time.monotonic()
        if waiting > 0:
            raise PostError("Discord asked us to back off", retry_after=waiting)
        thread = part.get("thread")
        if thread_ref is None and isinstance(thread, dict):
            return await self._start(channel, part, part_key, thread)
        target = thread_ref or channel
        try:
            return SentPart(await self._post(target, part, part_key), target)
        except PostError as exc:
            if target == channel or not isinstance(exc.__cause__, discord.NotFound):
                raise
            if exc.__cause__.code != UNKNOWN_CHANNEL:
                raise
        # the thread is gone (deleted by a moderator): the rest goes in the channel itself
        log.warning("digest thread %s in %s is gone; posting in the channel", target, channel)
        return SentPart(await self._post(channel, part, part_key), channel)

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        return None  # a resend returns what went out: the nonce, 160004, the forum post's name

    async def notice(self, channel: str, text: str) -> None:
        await self.pacer.wait(channel)
        try:
            await self.client.get_partial_messageable(int(channel)).send(
                content=escape(text), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as exc:
            log.warning("could not post a notice to %s: %s", channel, exc)

    # the header and its thread --------------------------------------------------------------
    async def _start(
        self, channel: str, part: dict[str, Any], part_key: str, thread: dict[str, Any]
    ) -> SentPart:
        """The header, and the thread the rest of the digest goes in (or the channel)."""
        kind, guild = await self._kind(channel)
        name = str(thread.get("name") or "")
        if kind in FORUM_CHANNELS:
            post = await self._forum_post(channel, guild, part, name)
            return SentPart(post, post)  # a forum post's starter message has the post's id
        message = await self._post(channel, part, part_key)
        if kind not in THREAD_CHANNELS or self._threads_refused.get(channel, 0) > time.monotonic():
            return SentPart(message, channel)
        await self.pacer.wait(channel)
        try:
            data = await self.client.http.start_thread_with_message(
                int(channel), int(message), name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES
            )
        except discord.Forbidden as exc:
            await self._refused(channel, thread, exc)
            return SentPart(message, channel)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:  # a retry after the thread was made: it has our id
                return SentPart(message, message)
            raise self._post_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PostError(f"Discord unreachable: {type(exc).__name__}") from exc
        self._threads_refused.pop(channel, None)
        return SentPart(message, str(data["id"]))

    async def _refused(
        self, channel: str, thread: dict[str, Any], exc: discord.HTTPException
    ) -> None:
        """Threads refused: the digest goes on in the channel; the admin hears of it once."""
        first = channel not in self._threads_refused
        self._threads_refused[channel] = time.monotonic() + THREADS_RETRY_AFTER
        log.warning(
            "may not create threads in %s (%s, code %s); posting the digest in the channel",
            channel,
            exc.text or exc,
            exc.code,
        )
        if first and thread.get("refused"):
            await self.notice(channel, str(thread["refused"]))

    async def _forum_post(
        self, forum: str, guild: str | None, part: dict[str, Any], name: str
    ) -> str:
        """The header as a forum post; the bot's active post of that name is taken instead of a
        second one (a forum post takes no nonce), so a retry creates nothing twice."""
        if guild is not None:
            await self.pacer.wait_overall()
            with self._translated():
                active = await self.client.http.get_active_threads(int(guild))
            mine = self._bot_id()
            for existing in active.get("threads", []):
                if (
                    str(existing.get("parent_id")) == forum
                    and existing.get("name") == name
                    and (mine is None or str(existing.get("owner_id")) == mine)
                ):
                    return str(existing["id"])
        await self.pacer.wait(forum)
        with (
            self._translated(maybe_sent=True),
            handle_message_parameters(
                content=part.get("content") or None,
                embeds=to_embeds(part),
                allowed_mentions=allowed_mentions(part),
                channel_payload={"name": name, "auto_archive_duration": AUTO_ARCHIVE_MINUTES},
            ) as params,
        ):
            data = await self.client.http.start_thread_in_forum(int(forum), params=params)
        return str(data["id"])

    def _bot_id(self) -> str | None:
        user = self.client.user
        return str(user.id) if user is not None else None

    async def _kind(self, channel: str) -> tuple[int, str | None]:
        """The channel's Discord type and guild: from the gateway's cache, else asked once."""
        known = self._kinds.get(channel)
        if known is not None:
            return known
        cached = self.client.get_channel(int(channel))
        if cached is not None and not isinstance(cached, discord.abc.PrivateChannel):
            known = (cached.type.value, str(cached.guild.id))
        else:
            await self.pacer.wait_overall()
            with self._translated():
                data = await self.client.http.get_channel(int(channel))
            guild_id = data.get("guild_id")
            known = (int(data["type"]), str(guild_id) if guild_id else None)
        self._kinds[channel] = known
        return known

    # one message ----------------------------------------------------------------------------
    async def _post(self, target: str, part: dict[str, Any], part_key: str) -> str:
        await self.pacer.wait(target)
        with self._translated():
            message = await self.client.get_partial_messageable(int(target)).send(
                content=part.get("content") or None,
                embeds=to_embeds(part),
                nonce=part_key,
                allowed_mentions=allowed_mentions(part),
            )
        return str(message.id)

    @contextmanager
    def _translated(self, maybe_sent: bool = False) -> Iterator[None]:
        """discord.py's errors as the engine's PostError (the original kept as its cause)."""
        try:
            yield
        except discord.HTTPException as exc:
            raise self._post_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PostError(
                f"Discord unreachable: {type(exc).__name__}", maybe_sent=maybe_sent
            ) from exc

    def _post_error(self, exc: discord.HTTPException) -> PostError:
        if isinstance(exc, discord.Forbidden | discord.NotFound):
            return PostError(
                f"Discord refused the post: {exc.text or exc} (code {exc.code})",
                permanent=exc.code in PAUSING_CODES or exc.status in (403, 404),
            )
        if exc.code == TAG_REQUIRED:
            return PostError(
                f"Discord refused the forum post: {exc.text or exc} (code {exc.code})",
                permanent=True,
            )
        if exc.status == 429:  # discord.py waits out route limits itself; this is a ban: stop
            wait = _retry_after(exc.response)
            self.cooloff_until = time.monotonic() + wait
            self.pacer.defer_overall(wait)  # for the bot's token: every replica stops
            log.warning(
                "Discord rate-limited us outside its buckets; pausing posts for %.0fs", wait
            )
            return PostError("Discord rate limit (cool-off)", retry_after=wait)
        return PostError(f"Discord error {exc.status}: {exc.text}")
