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
