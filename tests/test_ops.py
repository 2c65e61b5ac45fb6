"""Self-hosting: the image definition, compose wiring, settings precedence, secrets, health."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
import venv
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from aiohttp import web
from conftest import ROOT
from loopback import free_port

from bot.ops.health import make_app
from bot.ops.logs import RedactingFilter, secret_values
from bot.ops.metrics import METRICS
from bot.ops.settings import Settings
from bot.store.repo import Store

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint binary not available on this platform")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_shape() -> None:
    stages = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, re.M)
    assert len(stages) >= 2, "multi-stage"
    assert "python:3.11-slim" in DOCKERFILE
    assert "--require-hashes" in DOCKERFILE and "requirements.lock" in DOCKERFILE
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and 'VOLUME ["/data"]' in DOCKERFILE
    assert re.search(r'ENTRYPOINT \["newsdigest"\]\s+CMD \["serve"\]', DOCKERFILE)
    for line in re.findall(r"^(?:ARG|ENV)\s+(.*)$", DOCKERFILE, re.M):
        assert not re.search(r"TOKEN|SECRET|PASSWORD|API_KEY", line, re.I), line
    assert "LABEL org.opencontainers.image.title" in DOCKERFILE


def test_dockerignore_keeps_secrets_and_junk_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored and ".venv" in ignored


def test_lock_file_is_hash_pinned() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.M)
    assert {"slack-bolt", "discord-py", "sqlalchemy", "trafilatura"} <= {p.lower() for p in pins}
    assert lock.count("--hash=sha256:") >= len(pins)


def test_compose_wiring() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bot = compose["services"]["newsdigest"]
    assert bot["env_file"] == ".env" and bot["restart"] in ("unless-stopped", "always")
    assert "newsdigest-data:/data" in bot["volumes"] and "newsdigest-data" in compose["volumes"]
    assert bot["environment"]["NEWSDIGEST_DATA_DIR"] == "/data"
    assert "NEWSDIGEST_DATABASE_URL" in bot["environment"]
    assert bot["read_only"] is True and bot["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bot["security_opt"]
    db = compose["services"]["db"]
    assert db["profiles"] == ["postgres"] and bot["depends_on"]["db"]["required"] is False
    assert db["environment"]["POSTGRES_DB"] == "newsdigest"
    # the documented URL points the bot at the db service
    documented = (ROOT / "docker-compose.yml").read_text() + (
        ROOT / "config" / ".env.example"
    ).read_text()
    assert "@db:5432/newsdigest" in documented


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


class Beat:
    def __init__(self, when: datetime | None) -> None:
        self.last_beat = when
        self.is_leader = True


@pytest.mark.parametrize("alive", [True, False])
def test_healthz_and_metrics_over_http(tmp_path: Path, alive: bool) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    METRICS.digest_posted("slack")
    METRICS.summarizer_seconds.observe(0.004)

    async def main() -> None:
        runner = web.AppRunner(make_app(store, Beat(datetime.now(UTC) if alive else None)))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with httpx.AsyncClient() as http:
                health = await http.get(f"http://127.0.0.1:{port}/healthz")
                metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
        finally:
            await runner.cleanup()
        assert health.status_code == (200 if alive else 503)
        assert health.json()["database"] == "reachable"
        assert metrics.status_code == 200
        assert 'newsdigest_digests_posted_total{platform="slack"}' in metrics.text
        assert "newsdigest_summarizer_seconds_bucket" in metrics.text

    asyncio.run(main())
    store.engine.dispose()


@pytest.mark.skipif(
    os.environ.get("NEWSDIGEST_SKIP_INSTALL_TEST") == "1", reason="install test disabled"
)
def test_dockerfile_install_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    """What the image does: lock-file install, project install, then check and --help."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "install", "--require-hashes", "--no-deps", "-r", str(ROOT / "requirements.lock")],
        check=True,
        timeout=900,
    )
    subprocess.run([*pip, "install", "--no-deps", str(ROOT)], check=True, timeout=300)
    exe = str(env_dir / "bin" / "newsdigest")
    help_out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "serve" in help_out.stdout and "digest" in help_out.stdout
    env = {**os.environ, "NEWSDIGEST_DATA_DIR": str(tmp_path / "data")}
    check = subprocess.run(
        [exe, "check", "--console"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ready to run" in check.stdout


def test_a_fresh_scrape_shows_every_family_and_the_process() -> None:
    from bot.ops.metrics import CONTENT_TYPE, Metrics

    text = Metrics().render().decode()
    for family in (
        "newsdigest_digests_posted_total",
        "newsdigest_digests_failed_total",
        "newsdigest_rate_limited_total",
        "newsdigest_articles_fetched_total",
        "newsdigest_source_failures_total",
        "newsdigest_llm_fallbacks_total",
        "newsdigest_llm_replaced_bullets_total",
        "newsdigest_last_digest_timestamp_seconds",
        "newsdigest_channels",
        "newsdigest_sources",
        "newsdigest_deliveries_in_flight",
        "newsdigest_slot_to_post_seconds_bucket",
        "newsdigest_poll_seconds_bucket",
        "newsdigest_summarizer_seconds_bucket",
    ):
        assert family in text, family
    assert 'newsdigest_digests_posted_total{platform="slack"} 0.0' in text
    assert 'newsdigest_sources{state="paused"} 0.0' in text
    assert "process_cpu_seconds_total" in text and "python_info" in text
    assert CONTENT_TYPE.startswith("text/plain; version=")


def test_the_grafana_dashboard_uses_only_exposed_metrics() -> None:
    import json
    import re

    from bot.ops.metrics import Metrics

    exposed = set(re.findall(r"^([a-z_]+)(?:\{|\s)", Metrics().render().decode(), re.M))
    dashboard = json.loads((ROOT / "config" / "grafana-dashboard.json").read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert len(queries) >= 8
    for query in queries:
        for name in re.findall(r"\b(newsdigest_[a-z_]+|process_[a-z_]+)\b", query):
            assert name in exposed, name
