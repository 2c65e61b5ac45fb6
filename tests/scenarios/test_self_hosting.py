"""Self-hosting: the Dockerfile, compose file and lock file, and the image install steps in a fresh venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml
from support.paths import ROOT

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
    assert "postgres" in db["profiles"] and bot["depends_on"]["db"]["required"] is False
    assert db["environment"]["POSTGRES_DB"] == "newsdigest"
    # the documented URL points the bot at the db service
    documented = (ROOT / "docker-compose.yml").read_text() + (
        ROOT / "config" / ".env.example"
    ).read_text()
    assert "@db:5432/newsdigest" in documented


def test_compose_replicas_profile() -> None:
    """`docker compose --profile replicas up -d`: PostgreSQL and three replicas of the same bot;
    plain `docker compose up -d` still starts the one bot alone."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    by_default = [name for name, service in services.items() if "profiles" not in service]
    assert by_default == ["newsdigest"]
    bot, replica = services["newsdigest"], services["replica"]
    assert replica["profiles"] == ["replicas"] and "replicas" in services["db"]["profiles"]
    assert 1 + replica["deploy"]["replicas"] == 3
    for same in ("image", "env_file", "environment", "volumes", "read_only", "cap_drop"):
        assert replica[same] == bot[same], same  # the same bot, settings and lock-down
    assert replica["depends_on"] == bot["depends_on"]
    published = {p.split(":")[1] for p in bot["ports"]} & {
        p.split(":")[1] for p in replica["ports"]
    }
    assert not published  # no host port taken twice


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
