"""The CLI as a user runs it: a real process, real files, stdout/stderr and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import EXAMPLE, ROOT, SAMPLE


def cli(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_json_contract_on_the_shared_sample() -> None:
    if not SAMPLE.exists():
        pytest.skip("shared sample missing")
    result = cli("digest", str(SAMPLE), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "NKorea's Kim Needs a Win in Putin Talks"
    assert data["published"].endswith("04-23T06:41:00")
    assert data["dateline"] == "TOKYO"
    assert isinstance(data["source"], str)
    assert data["outlet"] == "samples" and data["also"] == []  # a local file: its folder
    assert 3 <= len(data["summary"]) <= 5
    for section in data["sections"]:
        assert set(section) >= {"id", "index", "heading", "titled", "bullets"}
        assert isinstance(section["titled"], bool) and isinstance(section["index"], int)
    assert {"why-now", "bottom-line"} <= {s["id"] for s in data["sections"]}


def test_section_option_and_formats() -> None:
    result = cli(
        "digest", str(EXAMPLE), "--format", "json", "--section", "took-long", "--bullets", "2"
    )
    data = json.loads(result.stdout)
    assert [s["id"] for s in data["sections"]] == ["took-long"]
    assert len(data["sections"][0]["bullets"]) == 2
    markdown = cli("digest", str(EXAMPLE), "--format", "markdown")
    assert markdown.stdout.startswith("# Riverton Council Backs Solar Farm")
    text = cli("digest", str(EXAMPLE))
    assert text.returncode == 0 and "What took so long?" in text.stdout


def test_stdin_sections_and_extract() -> None:
    result = cli("digest", "-", "--format", "json", stdin=EXAMPLE.read_bytes())
    assert json.loads(result.stdout)["title"].startswith("Riverton")
    sections = cli("sections", str(EXAMPLE))
    assert "[took-long]" in sections.stdout
    extract = cli("extract", str(EXAMPLE))
    assert extract.stdout.startswith("Riverton Council Backs Solar Farm on Old Rail Yard\n\n")
    assert "Return to Menu" not in extract.stdout and "What took so long?" in extract.stdout


def _one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment.lower() in lines[0].lower(), result.stderr


def test_bad_inputs_give_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(os.urandom(4096) + b"\0")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    nosentences = tmp_path / "nothing.html"
    nosentences.write_text("<html><body><div><img src=x></div></body></html>")
    _one_line_error(cli("digest", str(empty)), "empty")
    _one_line_error(cli("digest", str(binary)), "binary")
    _one_line_error(cli("digest", str(huge)), "limit")
    _one_line_error(cli("digest", str(nosentences)), "no article text")
    _one_line_error(cli("digest", str(tmp_path / "missing.txt")), "no such file")
    _one_line_error(cli("digest", str(EXAMPLE), "--section", "tok-long"), "took-long")
    _one_line_error(cli("digest", "http://127.0.0.1:9/x"), "private or reserved")
    _one_line_error(cli("digest", "http://169.254.169.254/latest"), "refused")


def test_unreachable_url_is_one_line(tmp_path: Path) -> None:
    result = cli("digest", "http://127.0.0.1:9/x", env={"NEWSDIGEST_FETCH_ALLOW": "127.0.0.1/32"})
    _one_line_error(result, "could not reach")


def test_cli_default_bullets_match_the_summarizers() -> None:
    from bot.cli import DEFAULT_SUMMARY_BULLETS
    from bot.summarize import base

    assert DEFAULT_SUMMARY_BULLETS == base.DEFAULT_SUMMARY_BULLETS
