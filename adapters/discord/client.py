"""The Discord app: a `/digest` command group → command layer → interaction responses.

No privileged intents. Slow work (fetching a URL, posting a digest) is deferred
within Discord's 3 seconds and answered by a follow-up. Admin subcommands check
Manage Server when they run: server admins can override a command's default
permissions, and Discord cannot set them per subcommand.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.commands import Completer, build_group
from adapters.discord.poster import DiscordPoster, to_embeds
from adapters.discord.render import reply_messages
from bot.chat.replies import CommandContext
from bot.chat.spec import Command, Link
from bot.delivery.pacing import DISCORD_LIMITS
from bot.digest.lookup import section_choices
from bot.digest.templates import off_loop_for
from bot.wiring import Core

log = logging.getLogger(__name__)


def configure_api_base(url: str | None) -> None:
    """NEWSDIGEST_DISCORD_API_URL: a proxy or a test server instead of discord.com."""
    if url:
        discord.http.Route.BASE = url.rstrip("/")


def make_client(
    shards: bool, shard_count: int | None = None, shard_ids: list[int] | None = None
) -> discord.Client:
    """One gateway connection, Discord's automatic sharding, or — with a shard count — the
    shards this replica runs (all of them when no ids are given)."""
    intents = discord.Intents.none()
    intents.guilds = True
    if shard_count is not None and shard_ids:
        return discord.AutoShardedClient(
            intents=intents, shard_count=shard_count, shard_ids=shard_ids
        )
    if shard_count is not None:
        return discord.AutoShardedClient(intents=intents, shard_count=shard_count)
    return discord.AutoShardedClient(intents=intents) if shards else discord.Client(intents=intents)


def client_for(core: Core) -> discord.Client:
    settings = core.settings
    return make_client(
        settings.discord_shards, settings.discord_shard_count, settings.discord_shard_ids
    )


class DiscordAdapter:
    def __init__(self, core: Core, client: discord.Client | None = None) -> None:
        configure_api_base(core.settings.discord_api_url)
        self.core = core
        self.client = client or client_for(core)
        self.tree = app_commands.CommandTree(self.client)
        self.handler = core.command_handler()
        self.poster = DiscordPoster(
            self.client,
            core.pacer(
                replace(DISCORD_LIMITS, global_rate=core.settings.discord_requests_per_second),
                "discord",
            ),
        )
        core.add_poster(self.poster)
        self.tree.add_command(build_group(self.handler.commands, self.run, self.completer))

    async def context(self, interaction: discord.Interaction[Any]) -> CommandContext:
        """Who asked where. In a digest's thread that is the channel the digest was posted to,
        with the thread: lookups there are about the digest's articles (as a mention in a
        Slack digest's thread is). Any other thread is a channel of its own, as before."""
        channel_id, thread_ref = str(interaction.channel_id), None
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.parent_id is not None:
            parent = CommandContext(channel_id=str(channel.parent_id), platform="discord").where
            if await self.core.admin.is_digest_thread(parent, str(channel.id)):
                channel_id, thread_ref = parent.channel_id, str(channel.id)
        return CommandContext(
            channel_id=channel_id,
            user_id=str(interaction.user.id),
            platform="discord",
            is_admin=self.is_admin(interaction),
            request_id=str(interaction.id),
            tenant=str(interaction.guild_id) if interaction.guild_id else None,
            thread_ref=thread_ref,
        )

    def is_admin(self, interaction: discord.Interaction[Any]) -> bool:
        """Manage Server in this guild, checked now (not trusted from the command's defaults)."""
        if str(interaction.user.id) in self.core.settings.admin_users:
            return True
        if interaction.guild_id is None:
            return False
        return bool(interaction.permissions.manage_guild)

    async def run(
        self,
        interaction: discord.Interaction[Any],
        command: Command[Any],
        options: dict[str, Any],
        share: bool,
    ) -> None:
        """A command with Discord's typed options → the command layer → the interaction's answer;
        slow work (reading a link, posting) is deferred within Discord's 3 seconds."""
        ephemeral = not share
        options = {k: _as_text(v) for k, v in options.items()}
        if command.slow or any(
            isinstance(p.kind, Link) and options.get(p.name) for p in command.params
        ):
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        reply = await self.handler.run(command, options, (await self.context(interaction)), share)
        # a preview in the channel's own templates renders off the event loop
        templates = reply.preview.templates if reply.preview is not None else None
        messages = await off_loop_for(templates, lambda: reply_messages(reply))
        for n, message in enumerate(messages):
            kwargs: dict[str, Any] = {
                "content": message["content"] or None,
                "embeds": to_embeds(message),
                "ephemeral": message["ephemeral"],
                "allowed_mentions": discord.AllowedMentions.none(),
            }
            if n == 0 and not interaction.response.is_done():
                await interaction.response.send_message(**kwargs)
            else:
                await interaction.followup.send(**kwargs)

    def completer(self, what: str) -> Completer:
        """Autocomplete for an argument; the channel's data is read off the event loop."""
        completers: dict[str, Completer] = {
            "sections": self.section_choices,
            "filters": self.filter_choices,
            "sources": self.source_choices,
            "source numbers": self.source_number_choices,
        }
        return completers[what]

    async def section_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The sections of the channel's last article; in a digest's thread, of its articles
        (each labelled with its article when there are several)."""
        context = await self.context(interaction)
        if context.thread_ref is not None:
            digests = await self.core.admin.digest_thread(context.where, context.thread_ref) or []
        else:
            last = await self.handler.services.memory.last_digest(context.where)
            digests = [last] if last is not None else []
        choices: dict[str, str] = {}  # value → label; the first article with a section id wins
        for digest in digests:
            title = " ".join(digest.article.title.split())
            for label, value in section_choices(digest, current):
                named = f"{title[:40]} › {label}" if len(digests) > 1 else label
                choices.setdefault(value, named[:100])
        return [app_commands.Choice(name=label, value=value) for value, label in choices.items()][
            :25
        ]

    async def filter_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        rows = await self.core.preferences.list_filters((await self.context(interaction)).where)
        return _numbered(rows, current)

    async def source_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        rows = await self.core.admin.sources((await self.context(interaction)).where)
        return [
            app_commands.Choice(name=row[:100], value=str(i))
            for i, row in enumerate(rows, 1)
            if current.lower() in row.lower()
        ][:25]

    async def source_number_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        rows = await self.core.admin.sources((await self.context(interaction)).where)
        return _numbered(rows, current)


def _as_text(value: Any) -> Any:
    """What the command layer takes for Discord's objects: a file's link, a role's mention."""
    if isinstance(value, discord.Attachment):
        return value.url
    if isinstance(value, discord.Role):
        return value.mention
    return value


def _numbered(rows: list[str], current: str) -> list[app_commands.Choice[int]]:
    """Numbered rows as Discord offers them (the number is the value), those matching typing."""
    return [
        app_commands.Choice(name=f"{i}. {row}"[:100], value=i)
        for i, row in enumerate(rows, 1)
        if current.lower() in f"{i} {row}".lower()
    ][:25]


async def use_configured_gateway(client: discord.Client, api_url: str | None) -> None:
    """With NEWSDIGEST_DISCORD_API_URL set, the gateway comes from that API too.

    discord.py's unsharded client dials its built-in gateway (and would send IDENTIFY, with
    the token, to the real Discord) however the REST base is set; only the sharded client
    asks `GET /gateway/bot`. Asking it here for every client keeps all traffic on the
    configured server; the built-in URL is replaced too, since discord.py falls back to
    it after an invalidated session."""
    if not api_url:
        return
    _shards, url, _limits = await client.http.get_bot_gateway()
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


async def start_discord(core: Core) -> None:
    token = core.settings.discord_token
    if token is None:
        return
    adapter = DiscordAdapter(core)
    try:
        await adapter.client.login(token.get_secret_value())
        await use_configured_gateway(adapter.client, core.settings.discord_api_url)
        await adapter.client.connect()
    except discord.LoginFailure:
        log.error("Discord rejected DISCORD_TOKEN; Discord is disabled")
    except discord.GatewayNotFound:
        log.error(
            "the configured Discord API (%s) offers no gateway (GET /gateway/bot); "
            "Discord is disabled rather than connecting anywhere else",
            core.settings.discord_api_url,
        )
    finally:
        if not adapter.client.is_closed():
            await adapter.client.close()


async def sync_commands(core: Core) -> str:
    """`newsdigest discord sync`: to one guild (instant) or globally (may take an hour)."""
    token = core.settings.discord_token
    if token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    adapter = DiscordAdapter(core)
    await adapter.client.login(token.get_secret_value())
    try:
        guild_id = core.settings.discord_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            adapter.tree.copy_global_to(guild=guild)
            synced = await adapter.tree.sync(guild=guild)
            return f"Synced {len(synced)} command(s) to guild {guild_id}."
        synced = await adapter.tree.sync()
        return f"Synced {len(synced)} command(s) globally (Discord may take up to an hour to show them)."
    finally:
        await adapter.client.close()


__all__ = ["DiscordAdapter", "start_discord", "sync_commands"]
