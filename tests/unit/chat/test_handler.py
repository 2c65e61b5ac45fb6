from __future__ import annotations

import asyncio

import pytest
from support.paths import EXAMPLE

from bot.chat.handler import CommandHandler
from bot.chat.replies import CommandContext, Reply, ReplyKind
from bot.chat.services import Services
from bot.errors import FetchError
from bot.models import Digest
from bot.ops.settings import Settings
from bot.wiring import source_reader

CTX = CommandContext(channel_id="C1", user_id="U1")


class SyncHandler:
    """The command handler driven from a test's thread."""

    def __init__(self, handler: CommandHandler) -> None:
        self.handler = handler

    def handle_sync(self, text: str, context: CommandContext) -> Reply:
        return asyncio.run(self.handler.handle(text, context))


@pytest.fixture()
def handler() -> SyncHandler:
    reader = source_reader(Settings())

    async def lookup(source: str) -> Digest:
        if "unreachable" in source:
            raise FetchError("Could not reach unreachable.example: ConnectError.")
        return await reader.newest_digest(str(EXAMPLE))

    return SyncHandler(CommandHandler(Services(lookup)))


def test_help(handler: SyncHandler) -> None:
    reply = handler.handle_sync("help", CTX)
    assert reply.kind is ReplyKind.HELP and "/digest section" in reply.text


def test_no_article_yet_is_a_clear_error(handler: SyncHandler) -> None:
    reply = handler.handle_sync("sections", CTX)
    assert reply.kind is ReplyKind.ERROR and "No article" in reply.text


def test_url_then_lookups_use_the_channel_memory(handler: SyncHandler) -> None:
    assert handler.handle_sync("url https://example.com/riverton", CTX).kind is ReplyKind.SUMMARY
    sections = handler.handle_sync("sections", CTX)
    assert sections.kind is ReplyKind.SECTIONS and "took-long" in sections.text
    by_name = handler.handle_sync("section what took so long", CTX)
    assert by_name.section is not None and by_name.section.id == "took-long"
    by_number = handler.handle_sync("section 3", CTX)
    assert by_number.section == by_name.section
    other_channel = handler.handle_sync("sections", CommandContext(channel_id="C2"))
    assert other_channel.kind is ReplyKind.ERROR


def test_unknown_section_suggests_the_closest(handler: SyncHandler) -> None:
    handler.handle_sync("url https://example.com/riverton", CTX)
    reply = handler.handle_sync("section tok-long", CTX)
    assert reply.kind is ReplyKind.ERROR and reply.error_kind == "unknown_section"
    assert "Did you mean 'took-long'" in reply.text and "happens-next" in reply.text


def test_unknown_command_and_fetch_errors_are_replies(handler: SyncHandler) -> None:
    reply = handler.handle_sync("sumary", CTX)
    assert reply.kind is ReplyKind.ERROR and reply.suggestion == "summary"
    failed = handler.handle_sync("url https://unreachable.example/x", CTX)
    assert failed.kind is ReplyKind.ERROR and "Could not reach" in failed.text
