"""Logs: secrets never show, at any level."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer

from bot.ops.logs import RedactingFilter, secret_values
from bot.ops.settings import Settings


def test_debug_logs_of_a_failed_slack_start_hold_no_token(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from support.fake_slack import slack_error

    from adapters.slack.app import start_slack
    from bot.ops.logs import setup_logging
    from bot.ops.settings import Settings
    from bot.wiring import build_core

    with LoopbackServer() as server:
        fake = FakeSlack(server)
        fake.script("auth.test", slack_error("invalid_auth"))
        settings = Settings(
            slack_bot_token="xoxb-123456-secret-token",
            slack_signing_secret="sig-secret-123456",
            slack_api_url=fake.api_url,
            data_dir=tmp_path,
            log_level="DEBUG",
        )
        setup_logging(settings)
        try:
            bot = build_core(settings)
            asyncio.run(start_slack(bot, 0))
            bot.store.engine.dispose()
        finally:
            logging.getLogger().handlers.clear()
    out, err = capfd.readouterr()
    assert "invalid_auth" in err
    assert "xoxb-" not in out + err and "sig-secret" not in out + err


def test_secrets_never_show(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        slack_bot_token="xoxb-1234-secret",
        discord_token="discord-secret-value",
        openai_api_key="sk-abcdefghijkl",
        database_url="postgresql://u:pw-secret@db/x",
    )
    text = repr(settings) + str(settings)
    for secret in ("xoxb-1234", "discord-secret-value", "sk-abcdefghijkl", "pw-secret"):
        assert secret not in text
    logger = logging.getLogger("test.redaction")
    handler_filter = RedactingFilter(secret_values(settings))
    logger.addFilter(handler_filter)
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("token %s and %s", "xoxb-1234-secret", "xapp-1-A-xyz")
        try:
            raise RuntimeError("auth failed for sk-abcdefghijkl")
        except RuntimeError:
            logger.exception("boom")
    logger.removeFilter(handler_filter)
    assert (
        "xoxb-1234" not in caplog.text
        and "xapp-1" not in caplog.text
        and "sk-abcdefghijkl" not in caplog.text
    )
