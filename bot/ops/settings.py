"""All configuration in one typed object: TOML file < environment < `…_FILE` secrets.

Secrets are SecretStr so they never print in logs, errors or repr. Platform
variables keep their standard names (SLACK_BOT_TOKEN, DISCORD_TOKEN,
OPENAI_API_KEY, …); everything else is NEWSDIGEST_… .
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "NEWSDIGEST_CONFIG"
DEFAULT_CONFIG = Path("config/newsdigest.toml")


class ChannelConfig(BaseModel):
    """A channel declared in the config file: where to post, what to follow, when."""

    platform: Literal["slack", "discord", "console"]
    channel: str
    sources: list[str] = Field(default_factory=list)
    schedule: str | None = None  # "weekdays 08:00", "daily 07:30", "mon,thu 09:00"
    timezone: str = "UTC"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSDIGEST_", extra="ignore", populate_by_name=True
    )

    # storage
    data_dir: Path = Path("data")
    database_url: SecretStr | None = None

    # fetching
    fetch_allow: str = ""
    fetch_max_bytes: int = 5 * 1024 * 1024
    fetch_timeout: float = 20.0
    fetch_proxy: str | None = None
    fetch_per_host: int = Field(default=2, ge=1, le=8)  # requests in flight to one host
    fetch_host_interval: float = Field(default=0.25, ge=0)  # seconds between starts, per host
    poll_concurrency: int = Field(default=16, ge=1)  # sources fetched at once
    follow_links: bool = True  # read the article behind a teaser feed item
    follow_max_pages: int = Field(default=20, ge=0)  # article pages per source per poll
    follow_deadline: float = Field(default=60.0, gt=0)  # seconds for one source's pages per poll

    # summarizing
    summarizer: Literal["extractive", "llm"] = "extractive"
    summary_bullets: int = 3
    section_bullets: int = 3
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    llm_max_retries: int = 2
    llm_max_tokens: int = 900
    llm_temperature: float = 0.2
    summarize_concurrency: int = Field(default=4, ge=1, le=64)  # summaries (LLM calls) at once
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=_alias("OPENAI_BASE_URL", "openai_base_url")
    )

    # digests and delivery
    language: str = (
        "en"  # the bot's own words, where a channel has not chosen (en de fr es pt it ja zh)
    )
    max_articles_per_digest: int = 10
    lookback_hours: int = 48
    grace_minutes: int = 120
    source_max_failures: int = 5
    # deliveries one replica holds at once; more are claimed as these finish, so a rush spreads
    # over the replicas
    delivery_concurrency: int = Field(default=100, ge=1)
    # how long a replica's claim on a delivery holds without renewal (renewed every quarter of
    # it): a dead replica's deliveries resume about this long after it died
    delivery_lease_seconds: float = Field(default=12.0, ge=2.0, le=600.0)
    delivery_claim_seconds: float = Field(default=1.0, gt=0, le=60.0)  # between claim rounds
    # this replica's name in lease owners (default: the host's name, which a restarted container
    # keeps): restarted under the same name after a crash, it resumes its leased deliveries at
    # once instead of after the lease; two live processes never share one (the second runs apart)
    replica_name: str | None = Field(default=None, max_length=64)
    # on PostgreSQL the platforms' limits are paced for all replicas together (one small
    # statement per bucket per post); off: each replica paces only itself
    shared_pacing: bool = True

    # slack
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str | None = None
    slack_command: str = "/digest"
    slack_posts_per_second: float = Field(default=100.0, gt=0)  # the workspace-wide pace

    # discord
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("DISCORD_TOKEN", "discord_token")
    )
    discord_api_url: str | None = None
    discord_guild_id: int | None = None
    discord_shards: bool = False
    # sharding across processes: this replica's shards out of discord_shard_count (e.g. two
    # replicas: "0" and "1" of 2); Discord sends each guild's interactions to its shard's
    # replica, and any replica can post deliveries (REST needs no gateway)
    discord_shard_count: int | None = Field(default=None, ge=1)
    discord_shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_requests_per_second: float = Field(default=50.0, gt=0)  # Discord's global limit

    # who may change sources and schedules besides platform admins
    admin_users: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # ops
    log_format: Literal["text", "json"] = "text"
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"  # see bot/ops/event_loop.py
    # how late the loop's sleeps may end, to share a wake-up (bot/ops/event_loop.py): less CPU,
    # more 429s in a rush; 0 (the default): on time
    timer_slack_ms: float = Field(default=0.0, ge=0, le=1000)
    log_level: str = "INFO"
    health_host: str = "127.0.0.1"
    health_port: int | None = None
    # the web console (adapters/web): off unless a port is set; loopback unless told otherwise
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(default=None, ge=1, le=65535)
    web_public_url: str | None = None  # https://digest.example.org behind a reverse proxy
    web_session_idle_minutes: int = Field(default=12 * 60, ge=5)  # signed out after this idle

    channels: list[ChannelConfig] = Field(default_factory=list)

    @field_validator(
        "database_url",
        "openai_base_url",
        "slack_api_url",
        "discord_api_url",
        "web_public_url",
        "web_port",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """Compose passes `${VAR:-}` as an empty string: that means "not set"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from bot.i18n import LANGUAGES, supported

        code = supported(value)
        if code is None:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {value!r}")
        return code

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        count, ids = self.discord_shard_count, self.discord_shard_ids
        if ids and count is None:
            raise ValueError("discord_shard_ids needs discord_shard_count (the total, e.g. 2)")
        if count is not None and any(not 0 <= i < count for i in ids):
            raise ValueError(
                f"discord_shard_ids must be numbers from 0 to {count - 1} "
                f"(discord_shard_count is {count}), not {ids}"
            )
        return self

    @field_validator("admin_users", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _web_table(cls, data: Any) -> Any:
        """A `[web]` table in the config file (port, host, public_url) is the web_… keys."""
        if isinstance(data, dict) and isinstance(data.get("web"), dict):
            data = dict(data)
            for key, value in data.pop("web").items():
                data.setdefault(f"web_{key}", value)
        return data

    @field_validator("web_public_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"web_public_url must start with http:// or https://, not {value!r}")
        return value.rstrip("/")

    @property
    def web_url(self) -> str | None:
        """Where people reach the web console (the links /digest web gives), or None when off."""
        if not self.web_port:
            return None
        if self.web_public_url:
            return self.web_public_url
        host = "127.0.0.1" if self.web_host in ("0.0.0.0", "", "::") else self.web_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.web_port}"

    @property
    def database_url_value(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'newsdigest.sqlite3'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_path = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))
        return (
            init_settings,
            SecretFileSource(settings_cls),
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path),
        )


class SecretFileSource(PydanticBaseSettingsSource):
    """`NAME_FILE=/run/secrets/x` sets NAME from that file: Docker secrets without env leaks."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for env_name in _env_names(field, field_name):
            path = os.environ.get(f"{env_name}_FILE")
            if path:
                key = _input_key(field, field_name)
                try:
                    return Path(path).read_text(encoding="utf-8").strip(), key, False
                except OSError as exc:
                    raise ValueError(
                        f"{env_name}_FILE points at an unreadable file: {exc.strerror}"
                    ) from exc
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if "SecretStr" not in str(field.annotation):
                continue  # only secrets come from files
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


def _input_key(field: FieldInfo, field_name: str) -> str:
    """The key the environment source uses too, so the merge lets the file win."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return field_name


def _env_names(field: FieldInfo, field_name: str) -> list[str]:
    names = [f"NEWSDIGEST_{field_name.upper()}"]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        names += [str(c) for c in alias.choices if isinstance(c, str) and c.isupper()]
    return names


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
