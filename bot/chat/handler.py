"""Answers `/digest …` for every front end: text (Slack, the console) or typed options
(Discord, the web console) go through the same checks to the command's handler.

In order: is the command available here (the bare console has no database), may this person
run it (admins only, or only to change something), was this very request handled before (a
replayed slash command), are the arguments valid — then the handler. Whatever goes wrong
comes back as a Reply a user can read; an unexpected failure is logged, never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.chat.commands import COMMANDS
from bot.chat.grammar import UnknownCommand, help_text, parse_text
from bot.chat.replies import CommandContext, Reply, ReplyKind, error
from bot.chat.services import Services
from bot.chat.spec import Access, Command, Invocation
from bot.errors import NewsdigestError
from bot.i18n import _, using

log = logging.getLogger(__name__)


class CommandHandler:
    def __init__(self, services: Services, commands: Sequence[Command[Any]] = COMMANDS) -> None:
        self.services = services
        self.commands = tuple(commands)
        self._by_name = {c.name: c for c in self.commands}

    def command(self, name: str) -> Command[Any]:
        return self._by_name[name]

    async def handle(self, text: str, context: CommandContext) -> Reply:
        """A command as typed: "/digest section why-now https://… share"."""
        language = await self.language(context)
        with using(language):
            try:
                parsed = parse_text(text, self.commands, self.services.local_files)
            except UnknownCommand as exc:
                reply = error(
                    f"{exc.message}\n\n{help_text(self.commands)}", exc.kind, exc.suggestion
                )
                return reply.shared(_shares(text)).speaking(language)
            except NewsdigestError as exc:
                return error(exc.message, exc.kind).shared(_shares(text)).speaking(language)
        return await self.run(parsed.command, parsed.values, context, parsed.share)

    async def run(
        self,
        command: Command[Any],
        values: Mapping[str, object],
        context: CommandContext,
        share: bool = False,
    ) -> Reply:
        """A command with its arguments' values, as text or already typed, answered in the
        channel's language."""
        language = await self.language(context)
        with using(language):
            try:
                reply = await self._run(command, values, context)
            except NewsdigestError as exc:
                reply = error(exc.message, exc.kind, getattr(exc, "suggestion", None))
            except Exception:
                log.exception("command %r failed", command.name)
                reply = error(
                    _("Something went wrong on our side; the error was logged."), "internal"
                )
        if command.access is not Access.ANYONE and command.is_change(values):
            language = await self.language(context)  # "/digest settings language de" answers in de
        return reply.shared(share).speaking(language)

    async def language(self, context: CommandContext) -> str:
        """The language the bot speaks in the channel (the running bot stores it per channel)."""
        preferences = self.services.preferences
        if preferences is None:
            return self.services.language
        try:
            return await preferences.language(context.where)
        except Exception:  # the database is down: answer in the default language, still answer
            log.warning("could not read the channel's language", exc_info=True)
            return self.services.language

    async def _run(
        self, command: Command[Any], values: Mapping[str, object], context: CommandContext
    ) -> Reply:
        services = self.services
        if command.needs_bot and services.admin is None:
            return error(
                _("'/digest {name}' needs the running bot (newsdigest serve).").format(
                    name=command.name
                ),
                "unavailable",
            )
        needs_admin = command.access is Access.ADMIN or (
            command.access is Access.ADMIN_TO_CHANGE and command.is_change(values)
        )
        if needs_admin:
            if not await self.is_admin(context):
                refusal = (str(command.refusal) if command.refusal else None) or _(
                    "Only workspace or server admins can use '/digest {name}'."
                ).format(name=command.name)
                return error(refusal, "forbidden")
            if context.request_id and services.admin is not None:
                key = f"{context.platform}:{context.request_id}"
                if not await services.admin.first_request(key):
                    return Reply(ReplyKind.INFO, _("That request was already handled."))
        args = command.build(values)
        return await command.handler(Invocation(context, services, self.commands), args)

    async def is_admin(self, context: CommandContext) -> bool:
        if context.is_admin or context.user_id in self.services.admin_users:
            return True
        return context.check_admin is not None and await context.check_admin()

    def help(self) -> str:
        return help_text(self.commands)


def _shares(text: str) -> bool:
    return any(w.lower() == "share" for w in text.split()[1:])
