"""Posting digests through discord.py's HTTP client, idempotently by nonce."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord

from adapters.discord.render import digest_messages, escape
from bot.delivery.pacing import DISCORD_LIMITS, Pacer
from bot.delivery.poster import ChannelDigest, PostError, SentPart

log = logging.getLogger(__name__)

PAUSING_CODES = frozenset(
    {50001, 50013, 10003, 50007}
)  # Missing Access/Permissions, Unknown Channel


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

    def render(self, digest: ChannelDigest) -> Sequence[dict[str, Any]]:
        return digest_messages(digest)

    async def send(
        self, channel: str, part: dict[str, Any], part_key: str, thread_ref: str | None
    ) -> SentPart:
        waiting = self.cooloff_until - time.monotonic()
        if waiting > 0:
            raise PostError("Discord asked us to back off", retry_after=waiting)
        target = self.client.get_partial_messageable(int(channel))
        await self.pacer.wait(channel)
        try:
            message = await target.send(
                content=part.get("content") or None,
                embeds=to_embeds(part),
                nonce=part_key,
                allowed_mentions=allowed_mentions(part),
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            raise PostError(
                f"Discord refused the post: {exc.text or exc} (code {exc.code})",
                permanent=exc.code in PAUSING_CODES or exc.status in (403, 404),
            ) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:  # discord.py waits out route limits itself; this is a ban: stop
                wait = _retry_after(exc.response)
                self.cooloff_until = time.monotonic() + wait
                log.warning(
                    "Discord rate-limited us outside its buckets; pausing posts for %.0fs", wait
                )
                raise PostError("Discord rate limit (cool-off)", retry_after=wait) from exc
            raise PostError(f"Discord error {exc.status}: {exc.text}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PostError(f"Discord unreachable: {type(exc).__name__}") from exc
        return SentPart(str(message.id), thread_ref or str(message.id))

    async def find(self, channel: str, part_key: str, thread_ref: str | None) -> SentPart | None:
        return None  # the nonce makes a resend return the first message

    async def notice(self, channel: str, text: str) -> None:
        await self.pacer.wait(channel)
        try:
            await self.client.get_partial_messageable(int(channel)).send(
                content=escape(text), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as exc:
            log.warning("could not post a notice to %s: %s", channel, exc)
