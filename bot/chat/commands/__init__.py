"""Every `/digest` command, in the order help lists them: one spec and one handler each."""

from __future__ import annotations

from typing import Any

from bot.chat.commands.channel import CHANNEL
from bot.chat.commands.curation import CURATION
from bot.chat.commands.lookups import LOOKUPS
from bot.chat.commands.web import WEB
from bot.chat.spec import Command

COMMANDS: tuple[Command[Any], ...] = (*LOOKUPS, *CHANNEL, *CURATION, *WEB)
