"""`newsdigest check`: what is configured, what is missing, and whether each part answers.

Talks to Slack, Discord and the LLM server with plain HTTPS calls (auth.test,
/users/@me, /models) so the core needs no platform library. Never prints a
secret: only whether it is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import httpx
from pydantic import ValidationError

from bot.ops.settings import CONFIG_ENV, DEFAULT_CONFIG, Settings, load_settings
from bot.store.repo import Store

OK, WARN, FAIL = "ok", "warn", "FAIL"
SLACK_API = "https://slack.com/api/"
DISCORD_API = "https://discord.com/api/v10"


@dataclass(frozen=True)
class Line:
    status: str
    what: str
    detail: str


def run_check(
    out: IO[str], console: bool = False, settings_factory: Callable[[], Settings] = load_settings
) -> int:
    lines: list[Line] = []
    config = os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG))
    try:
        settings = settings_factory()
    except (ValidationError, ValueError) as exc:
        out.write(f"[{FAIL}] configuration: {_first_error(exc)}\n")
        return 1
    lines.append(
        Line(OK, "configuration", f"read (file: {config if os.path.exists(config) else 'none'})")
    )
    lines += check_database(settings)
    platforms = check_slack(settings) + check_discord(settings)
    if console:
        platforms.append(Line(OK, "console", "the terminal is the channel"))
    if not platforms:
        platforms.append(
            Line(
                FAIL,
                "platforms",
                "none configured: set SLACK_BOT_TOKEN or DISCORD_TOKEN "
                "(or run `newsdigest serve --console`)",
            )
        )
    lines += platforms
    lines += check_llm(settings)
    for line in lines:
        out.write(f"[{line.status:>4}] {line.what}: {line.detail}\n")
    database_ok = all(line.status != FAIL for line in lines if line.what == "database")
    platform_ok = any(line.status == OK for line in platforms)
    ready = database_ok and platform_ok and all(line.status != FAIL for line in lines)
    out.write("ready to run\n" if ready else "not ready: fix the FAIL lines above\n")
    return 0 if ready else 1


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        return f"{where}: {error.get('msg')}"
    return str(exc)


def check_database(settings: Settings) -> list[Line]:
    kind = "PostgreSQL" if settings.database_url_value.startswith("postgres") else "SQLite"
    try:
        store = Store.open(settings.database_url_value)
        store.ping()
        store.engine.dispose()
    except Exception as exc:
        return [Line(FAIL, "database", f"{kind} unreachable ({type(exc).__name__})")]
    where = (
        str(settings.data_dir / "newsdigest.sqlite3")
        if kind == "SQLite"
        else "NEWSDIGEST_DATABASE_URL"
    )
    return [Line(OK, "database", f"{kind} at {where}, schema up to date")]


def check_slack(settings: Settings) -> list[Line]:
    if settings.slack_bot_token is None:
        return []
    lines = []
    mode = "Socket Mode" if settings.slack_app_token else "HTTP mode"
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        lines.append(
            Line(
                FAIL,
                "slack",
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) "
                "nor SLACK_SIGNING_SECRET (HTTP mode)",
            )
        )
        return lines
    base = (settings.slack_api_url or SLACK_API).rstrip("/") + "/"
    try:
        response = httpx.post(
            f"{base}auth.test",
            timeout=10,
            trust_env=False,
            headers={"Authorization": f"Bearer {settings.slack_bot_token.get_secret_value()}"},
        )
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return [Line(FAIL, "slack", f"no answer from the Slack API ({type(exc).__name__})")]
    if not data.get("ok"):
        return [Line(FAIL, "slack", f"token rejected: {data.get('error', response.status_code)}")]
    return [Line(OK, "slack", f"{mode}; signed in as {data.get('user')} in {data.get('team')}")]


def check_discord(settings: Settings) -> list[Line]:
    if settings.discord_token is None:
        return []
    base = (settings.discord_api_url or DISCORD_API).rstrip("/")
    try:
        response = httpx.get(
            f"{base}/users/@me",
            timeout=10,
            trust_env=False,
            headers={"Authorization": f"Bot {settings.discord_token.get_secret_value()}"},
        )
    except httpx.HTTPError as exc:
        return [Line(FAIL, "discord", f"no answer from the Discord API ({type(exc).__name__})")]
    if response.status_code != 200:
        return [Line(FAIL, "discord", f"token rejected (HTTP {response.status_code})")]
    return [Line(OK, "discord", f"signed in as {response.json().get('username')}")]


def check_llm(settings: Settings) -> list[Line]:
    if settings.summarizer != "llm":
        return [Line(OK, "summarizer", "extractive (offline)")]
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {}
    if settings.openai_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
    try:
        response = httpx.get(f"{base}/models", timeout=10, trust_env=False, headers=headers)
    except httpx.HTTPError as exc:
        return [
            Line(
                WARN,
                "summarizer",
                f"llm server not answering ({type(exc).__name__}); "
                "digests will use the extractive summarizer",
            )
        ]
    if response.status_code != 200:
        return [
            Line(
                WARN,
                "summarizer",
                f"llm server answered HTTP {response.status_code}; digests will "
                "fall back to the extractive summarizer",
            )
        ]
    return [Line(OK, "summarizer", f"llm {settings.llm_model} at {base}, extractive fallback")]
