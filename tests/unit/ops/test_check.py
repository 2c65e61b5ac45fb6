"""`newsdigest check`: what it prints holds no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.paths import ROOT


def test_check_command_output_has_no_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NEWSDIGEST_DATA_DIR": str(tmp_path),
        "DISCORD_TOKEN": "discord-secret-token-value",
        "NEWSDIGEST_DISCORD_API_URL": "http://127.0.0.1:9/api/v10",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "discord" in result.stdout
        and "discord-secret-token-value" not in result.stdout + result.stderr
    )
