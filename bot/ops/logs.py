"""Logging: readable lines by default, JSON lines with NEWSDIGEST_LOG_FORMAT=json; secrets masked."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from bot.ops.settings import Settings

_SECRET_PATTERNS = re.compile(
    r"(xox[abprs]-[\w-]+|xapp-[\w-]+|sk-[\w-]{8,}|Bot [\w.-]{20,}|[MN][\w-]{23,}\.[\w-]{6}\.[\w-]{27,})"
)


class RedactingFilter(logging.Filter):
    """Masks token-shaped strings and the configured secret values in every record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _SECRET_PATTERNS.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(formatted)
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def secret_values(settings: Settings) -> list[str]:
    values = []
    for name in (
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "discord_token",
        "openai_api_key",
        "database_url",
    ):
        secret = getattr(settings, name)
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter(secret_values(settings)))
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("apscheduler", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
