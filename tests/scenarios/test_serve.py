"""`newsdigest serve` as a real process: Slack over HTTP against a loopback Slack, then SIGTERM."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer, free_port
from support.paths import EXAMPLE, ROOT

SECRET = "e2e-signing-secret-0123456789"


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def wait_until(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_serve_slack_http_answers_posts_and_stops_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "riverton.txt").write_text(EXAMPLE.read_text())
    config = tmp_path / "newsdigest.toml"
    config.write_text(
        f'[[channels]]\nplatform = "slack"\nchannel = "C1"\nsources = ["{folder}"]\n'
        'schedule = "daily 08:00"\ntimezone = "Europe/Berlin"\n'
    )
    port, health = free_port(), free_port()
    with LoopbackServer() as server:
        fake = FakeSlack(server)
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-e2e-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "NEWSDIGEST_SLACK_API_URL": fake.api_url,
            "NEWSDIGEST_DATA_DIR": str(tmp_path / "data"),
            "NEWSDIGEST_CONFIG": str(config),
            "NEWSDIGEST_ADMIN_USERS": "UADMIN",
            "NEWSDIGEST_HEALTH_PORT": str(health),
        }
        env.pop("SLACK_APP_TOKEN", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--slack-http-port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}/slack/events"
            wait_until(lambda: httpx.get(f"http://127.0.0.1:{health}/healthz").status_code == 200)

            def command(text: str, n: int, user: str = "UADMIN") -> None:
                body = urlencode(
                    {
                        "command": "/digest",
                        "text": text,
                        "user_id": user,
                        "channel_id": "C1",
                        "trigger_id": f"T{n}",
                        "response_url": fake.response_url(n),
                    }
                )
                assert httpx.post(endpoint, content=body, headers=signed(body)).status_code == 200

            command("now", 1)
            wait_until(lambda: len(fake.responses) >= 1)
            assert "Posted a digest" in json.dumps(fake.responses[0])
            posts = fake.posts()
            assert len(posts) == 2 and posts[1].args["thread_ts"] == fake.messages["C1"][0]["ts"]

            command("sections", 2, user="UGUEST")
            wait_until(lambda: len(fake.responses) >= 2)
            assert "took-long" in json.dumps(fake.responses[1])

            body = urlencode(
                {"command": "/digest", "text": "help", "user_id": "U1", "channel_id": "C1"}
            )
            bad = httpx.post(
                endpoint, content=body, headers={**signed(body), "X-Slack-Signature": "v0=00"}
            )
            assert bad.status_code == 401
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped cleanly" in output and "xoxb-e2e-token" not in output


def test_serve_without_platforms_explains_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    env["NEWSDIGEST_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "newsdigest serve --console" in result.stderr


def test_serve_console_health_probe_and_sigterm_with_stdin_open(tmp_path: Path) -> None:
    """`docker stop` on a console bot: SIGTERM ends it even though nobody closed its input."""
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    port = free_port()
    env.update(
        NEWSDIGEST_DATA_DIR=str(tmp_path),
        NEWSDIGEST_LOG_LEVEL="INFO",
        NEWSDIGEST_HEALTH_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--console"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("/digest help\n")
        process.stdin.flush()
        seen = ""
        while "/digest sources" not in seen:  # the help reply: the console is up
            line = process.stdout.readline()
            assert line, seen
            seen += line
        health = [sys.executable, "-m", "bot.cli", "health"]
        probe = subprocess.run(
            health, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 0, probe.stderr  # the HEALTHCHECK follows the configured port
        elsewhere = {**env, "NEWSDIGEST_HEALTH_PORT": str(free_port())}
        probe = subprocess.run(
            health, cwd=ROOT, env=elsewhere, capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 1 and "health probe failed" in probe.stderr
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)  # stdin is still open
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
