"""Settings: file < environment < secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ops.settings import Settings


def test_settings_precedence_file_env_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "newsdigest.toml"
    config.write_text(
        'summary_bullets = 4\nllm_model = "from-file"\nlog_format = "json"\n'
        '[[channels]]\nplatform = "slack"\nchannel = "C1"\nschedule = "weekdays 08:00"\n'
    )
    monkeypatch.setenv("NEWSDIGEST_CONFIG", str(config))
    assert Settings().summary_bullets == 4 and Settings().channels[0].channel == "C1"
    monkeypatch.setenv("NEWSDIGEST_LLM_MODEL", "from-env")
    assert Settings().llm_model == "from-env" and Settings().log_format == "json"
    secret = tmp_path / "token"
    secret.write_text("xoxb-from-file\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    assert Settings().slack_bot_token.get_secret_value() == "xoxb-from-env"  # type: ignore[union-attr]
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(secret))
    assert Settings().slack_bot_token.get_secret_value() == "xoxb-from-file"  # type: ignore[union-attr]
    monkeypatch.setenv(
        "NEWSDIGEST_LLM_MODEL_FILE", str(secret)
    )  # not a secret field: no _FILE for it
    assert Settings().llm_model == "from-env"


def test_discord_shards_per_replica_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDIGEST_DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("NEWSDIGEST_DISCORD_SHARD_IDS", "0, 2")
    assert Settings().discord_shard_ids == [0, 2]
    monkeypatch.setenv("NEWSDIGEST_DISCORD_SHARD_IDS", "4")
    with pytest.raises(ValueError, match="from 0 to 3"):
        Settings()
    monkeypatch.delenv("NEWSDIGEST_DISCORD_SHARD_COUNT")
    monkeypatch.setenv("NEWSDIGEST_DISCORD_SHARD_IDS", "1")
    with pytest.raises(ValueError, match="needs discord_shard_count"):
        Settings()


def test_the_web_console_is_off_until_a_port_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().web_url is None
    monkeypatch.setenv("NEWSDIGEST_WEB_PORT", "8081")
    monkeypatch.setenv("NEWSDIGEST_WEB_HOST", "0.0.0.0")
    assert Settings().web_url == "http://127.0.0.1:8081"
    monkeypatch.setenv("NEWSDIGEST_WEB_PUBLIC_URL", "https://digest.example.org/")
    assert Settings().web_url == "https://digest.example.org"
    monkeypatch.setenv("NEWSDIGEST_WEB_PUBLIC_URL", "javascript:alert(1)")
    with pytest.raises(ValueError, match="must start with http"):
        Settings()
