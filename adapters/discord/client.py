"""The Discord app: a `/digest` command group → command layer → interaction responses.

No privileged intents. Slow work (fetching a URL, posting a digest) is deferred
within Discord's 3 seconds and answered by a follow-up. Admin subcommands check
Manage Server when they run: server admins can override a command's default
permissions, and Discord cannot set them per subcommand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, Literal

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.poster import DiscordPoster, to_embeds
from adapters.discord.render import reply_messages
from bot.app import Bot
from bot.chat.commands import CommandContext, ReplyKind, section_choices
from bot.delivery.pacing import DISCORD_LIMITS, Pacer

log = logging.getLogger(__name__)


def configure_api_base(url: str | None) -> None:
    """NEWSDIGEST_DISCORD_API_URL: a proxy or a test server instead of discord.com."""
    if url:
        discord.http.Route.BASE = url.rstrip("/")


def make_client(shards: bool) -> discord.Client:
    intents = discord.Intents.none()
    intents.guilds = True
    return discord.AutoShardedClient(intents=intents) if shards else discord.Client(intents=intents)


class DiscordAdapter:
    def __init__(self, bot: Bot, client: discord.Client | None = None) -> None:
        configure_api_base(bot.settings.discord_api_url)
        self.bot = bot
        self.client = client or make_client(bot.settings.discord_shards)
        self.tree = app_commands.CommandTree(self.client)
        self.handler = bot.command_handler()
        self.poster = DiscordPoster(
            self.client,
            Pacer(replace(DISCORD_LIMITS, global_rate=bot.settings.discord_requests_per_second)),
        )
        bot.add_poster(self.poster)
        self.tree.add_command(build_group(self))

    def context(
        self, interaction: discord.Interaction[Any], admin_needed: bool = False
    ) -> CommandContext:
        return CommandContext(
            channel_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            platform="discord",
            is_admin=self.is_admin(interaction) if admin_needed else False,
            request_id=str(interaction.id),
        )

    def is_admin(self, interaction: discord.Interaction[Any]) -> bool:
        """Manage Server in this guild, checked now (not trusted from the command's defaults)."""
        if str(interaction.user.id) in self.bot.settings.admin_users:
            return True
        if interaction.guild_id is None:
            return False
        return bool(interaction.permissions.manage_guild)

    async def run(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        share: bool = False,
        slow: bool = False,
        admin: bool = False,
    ) -> None:
        ephemeral = not share
        if slow:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        reply = await self.handler.handle(
            text + (" share" if share else ""), self.context(interaction, admin)
        )
        for n, message in enumerate(reply_messages(reply)):
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

    async def section_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        # off the loop: the channel's article may have to be read (or summarized) first
        digest = await asyncio.to_thread(self.handler.memory.last_digest, self.context(interaction))
        if digest is None:
            return []
        return [
            app_commands.Choice(name=label, value=value)
            for label, value in section_choices(digest, current)
        ]

    async def filter_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if self.handler.actions is None:
            return []
        rows = await asyncio.to_thread(self.handler.actions.list_filters, self.context(interaction))
        return [
            app_commands.Choice(name=f"{i}. {row}"[:100], value=str(i))
            for i, row in enumerate(rows, 1)
            if current.lower() in f"{i} {row}".lower()
        ][:25]

    async def source_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if self.handler.actions is None:
            return []
        rows = await asyncio.to_thread(self.handler.actions.sources, self.context(interaction))
        return [
            app_commands.Choice(name=row[:100], value=str(i))
            for i, row in enumerate(rows, 1)
            if current.lower() in row.lower()
        ][:25]


def build_group(adapter: DiscordAdapter) -> app_commands.Group:
    group = app_commands.Group(
        name="digest",
        description="News digests: summaries, sections and schedules",
        guild_only=True,
    )

    @group.command(name="help", description="What the bot can do")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await adapter.run(interaction, "help")

    @group.command(description="The top bullets of an article (default: the latest one here)")
    @app_commands.describe(url="Article link", share="Post the answer for everyone")
    async def summary(
        interaction: discord.Interaction[Any], url: str | None = None, share: bool = False
    ) -> None:
        await adapter.run(interaction, f"summary {url or ''}", share, slow=bool(url))

    @group.command(description="The sections of an article")
    @app_commands.describe(url="Article link", share="Post the answer for everyone")
    async def sections(
        interaction: discord.Interaction[Any], url: str | None = None, share: bool = False
    ) -> None:
        await adapter.run(interaction, f"sections {url or ''}", share, slow=bool(url))

    @group.command(description="The bullets of one section")
    @app_commands.describe(
        name="Section name or number", url="Article link", share="Post for everyone"
    )
    @app_commands.autocomplete(name=adapter.section_autocomplete)
    async def section(
        interaction: discord.Interaction[Any],
        name: str,
        url: str | None = None,
        share: bool = False,
    ) -> None:
        await adapter.run(interaction, f"section {_quote(name)} {url or ''}", share, slow=bool(url))

    @group.command(description="Digest a link now")
    @app_commands.describe(link="Article link", share="Post the answer for everyone")
    async def url(interaction: discord.Interaction[Any], link: str, share: bool = False) -> None:
        await adapter.run(interaction, f"url {link}", share, slow=True)

    @group.command(description="The latest digest posted in this channel")
    async def today(interaction: discord.Interaction[Any], share: bool = False) -> None:
        await adapter.run(interaction, "today", share)

    @group.command(description="Post a digest of what is new, now (Manage Server)")
    async def now(interaction: discord.Interaction[Any]) -> None:
        await adapter.run(interaction, "now", slow=True, admin=True)

    @group.command(description="The sources this channel follows")
    async def sources(interaction: discord.Interaction[Any]) -> None:
        await adapter.run(interaction, "sources")

    @group.command(description="Follow a feed or page (Manage Server)")
    @app_commands.describe(url="Feed or page link")
    async def subscribe(interaction: discord.Interaction[Any], url: str) -> None:
        await adapter.run(interaction, f"subscribe {url}", slow=True, admin=True)

    @group.command(description="Stop following a source (Manage Server)")
    @app_commands.describe(source="Number from /digest sources, or the link")
    @app_commands.autocomplete(source=adapter.source_autocomplete)
    async def unsubscribe(interaction: discord.Interaction[Any], source: str) -> None:
        await adapter.run(interaction, f"unsubscribe {_quote(source)}", admin=True)

    @group.command(description="When digests are posted, e.g. 'weekdays 08:00' (Manage Server)")
    @app_commands.describe(
        when="e.g. 'weekdays 08:00', 'daily 7:30', or 'off'; empty shows it",
        timezone="e.g. Europe/Berlin",
    )
    async def schedule(
        interaction: discord.Interaction[Any], when: str | None = None, timezone: str | None = None
    ) -> None:
        text = "schedule" if not when else f"schedule {when} {timezone or ''}"
        await adapter.run(interaction, text, admin=when is not None)

    @group.command(description="Ask about an article (default: the latest one here)")
    @app_commands.describe(
        question="What you want to know", url="Article link", share="Post for everyone"
    )
    async def ask(
        interaction: discord.Interaction[Any],
        question: str,
        url: str | None = None,
        share: bool = False,
    ) -> None:
        await adapter.run(interaction, f"ask {_quote(question)} {url or ''}", share, slow=True)

    @group.command(description="This channel's filters and what each dropped lately")
    async def filters(interaction: discord.Interaction[Any]) -> None:
        await adapter.run(interaction, "filters")

    @group.command(description="Keep or drop items by words or /regex/ (Manage Server)")
    @app_commands.describe(
        action="include: keep only matches; exclude: drop matches; remove or clear filters",
        pattern="Words, or a /regular expression/ (include and exclude)",
        number="Filter number to remove (see /digest filters)",
    )
    @app_commands.autocomplete(number=adapter.filter_autocomplete)
    async def filter(
        interaction: discord.Interaction[Any],
        action: Literal["include", "exclude", "remove", "clear"],
        pattern: str | None = None,
        number: str | None = None,
    ) -> None:
        argument = pattern if action in ("include", "exclude") else (number or "")
        await adapter.run(interaction, f"filter {action} {argument or ''}", admin=True)

    @group.command(description="Show or change this channel's settings (changes: Manage Server)")
    @app_commands.describe(
        articles="Articles per digest", bullets="Bullets per article", sections="List sections"
    )
    async def settings(
        interaction: discord.Interaction[Any],
        articles: app_commands.Range[int, 1, 25] | None = None,
        bullets: app_commands.Range[int, 1, 10] | None = None,
        sections: bool | None = None,
    ) -> None:
        changes = [
            f"settings {name} {value}"
            for name, value in (
                ("articles", articles),
                ("bullets", bullets),
                ("sections", None if sections is None else ("on" if sections else "off")),
            )
            if value is not None
        ]
        for change in changes[:-1]:
            reply = await adapter.handler.handle(change, adapter.context(interaction, True))
            if reply.kind is ReplyKind.ERROR:
                await adapter.run(interaction, change, admin=True)
                return
        await adapter.run(interaction, changes[-1] if changes else "settings", admin=bool(changes))

    return group


def _quote(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


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


async def start_discord(bot: Bot, runner: Any) -> None:
    token = bot.settings.discord_token
    if token is None:
        return
    adapter = DiscordAdapter(bot)
    try:
        await adapter.client.login(token.get_secret_value())
        await use_configured_gateway(adapter.client, bot.settings.discord_api_url)
        await adapter.client.connect()
    except discord.LoginFailure:
        log.error("Discord rejected DISCORD_TOKEN; Discord is disabled")
    except discord.GatewayNotFound:
        log.error(
            "the configured Discord API (%s) offers no gateway (GET /gateway/bot); "
            "Discord is disabled rather than connecting anywhere else",
            bot.settings.discord_api_url,
        )
    finally:
        if not adapter.client.is_closed():
            await adapter.client.close()


async def sync_commands(bot: Bot) -> str:
    """`newsdigest discord sync`: to one guild (instant) or globally (may take an hour)."""
    token = bot.settings.discord_token
    if token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    adapter = DiscordAdapter(bot)
    await adapter.client.login(token.get_secret_value())
    try:
        guild_id = bot.settings.discord_guild_id
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
