"""News in any language, and the bot's own words in the channel's language, end to end."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fake_llm import FakeLLM, completion, faithful_reply
from support.loopback import LoopbackServer, Response
from support.paths import ROOT
from support.recording_poster import RecordingPoster
from support.seeding import seed_channel

from adapters.console.poster import ConsolePoster
from bot.chat.replies import CommandContext, ReplyKind
from bot.digest.sections import build_article
from bot.ingest import load_source
from bot.ops.metrics import METRICS
from bot.ops.settings import Settings
from bot.store.repo import Store
from bot.summarize.translate import faithful
from bot.text.sentences import split_sentences
from bot.text.words import stopwords, tokens
from bot.wiring import build_core

PAGES = ROOT / "tests" / "data" / "pages"
ENGLISH_CHROME = ("Summary", "Also in this article", "untitled", "Overview", "Continued")


def newsdigest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def digest_json(path: Path, *options: str) -> dict[str, Any]:
    run = newsdigest(*options, "digest", str(path), "--format", "json")
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


@pytest.mark.parametrize("page, language", [("zh-harbour.html", "zh"), ("ja-library.html", "ja")])
def test_chinese_and_japanese_pages_give_sentence_bullets(page: str, language: str) -> None:
    data = digest_json(PAGES / page)
    assert data["language"].split("-")[0] == language
    body = {s.text for d in load_source(str(PAGES / page)) for s in build_article(d).sentences}
    assert len(data["summary"]) >= 2
    for bullet in data["summary"]:
        assert bullet in body  # taken from the article, whole
        assert split_sentences(bullet, language) == [bullet] and len(bullet) <= 200
    for section in data["sections"][1:]:
        assert section["titled"]
        assert all(part in section["heading"] for part in section["id"].split("-"))


def test_generated_german_headings_name_things_and_ids_are_whole_words() -> None:
    data = digest_json(PAGES / "de-bridge.txt")
    assert data["language"] == "de"
    generated = [s for s in data["sections"] if not s["titled"] and s["index"] > 1]
    assert len(generated) == 2
    for section in generated:
        words = tokens(section["heading"], "de")
        assert words and words[-1] not in stopwords("de")
        assert set(section["id"].split("-")) <= set(words)
    assert all(len(b.split()) >= 5 for b in data["summary"])


def test_the_bots_own_words_follow_the_language_asked_for() -> None:
    run = newsdigest("--language", "fr", "digest", str(PAGES / "de-bridge.txt"))
    assert run.returncode == 0, run.stderr
    assert not [word for word in ENGLISH_CHROME if word in run.stdout], run.stdout
    assert "Köln" in run.stdout  # the article's own words are untouched
    data = digest_json(PAGES / "de-bridge.txt", "--language", "ja")
    assert data["sections"][0]["heading"] != "Overview"
    failed = newsdigest("--language", "de", "digest", str(PAGES / "no-such-file.txt"))
    assert failed.returncode == 1 and "newsdigest:" in failed.stderr
    assert "error:" not in failed.stderr  # worded in German


@pytest.fixture()
def console_core(store: Store) -> Iterator[Any]:
    out = io.StringIO()
    core = build_core(
        Settings(lookback_hours=24 * 3650), store=store, posters={"console": ConsolePoster(out)}
    )
    yield core, out
    core.workers.close()


def test_a_channel_speaks_the_language_it_chose(console_core: Any, tmp_path: Path) -> None:
    core, out = console_core
    admin = CommandContext(channel_id="C1", user_id="U1", is_admin=True, platform="console")
    seed_channel(
        core.store,
        tmp_path / "feed",
        [(PAGES / "de-bridge.txt").read_text(encoding="utf-8")],
        platform="console",
        schedule=None,
    )
    handler = core.command_handler()

    async def main() -> None:
        english = await handler.handle("settings", admin)
        changed = await handler.handle("settings language de", admin)
        assert changed.language == "de" and "Einstellungen" in changed.text, changed.text
        unknown = await handler.handle("sumary", admin)
        assert unknown.kind is ReplyKind.ERROR and unknown.language == "de"
        assert unknown.text != english.text
        bad = await handler.handle("settings language xx", admin)
        assert bad.kind is ReplyKind.ERROR
        channel = core.store.channel("console", "C1")
        await core.deliverer.deliver(channel, "now-test", datetime.now(UTC))

    asyncio.run(main())
    posted = out.getvalue()
    assert "News digest" not in posted and "new article" not in posted, posted


def test_translated_bullets_keep_numbers_and_names_or_stay_as_written(
    store: Store, tmp_path: Path
) -> None:
    bridge = "Die Brücke kostet 85 Millionen Euro."
    assert faithful(bridge, "The bridge costs 85 million euros.", "de")
    assert not faithful(bridge, "The bridge costs 58 million euros.", "de")
    assert not faithful("Die EU zahlt 40 Millionen.", "They pay 40 million.", "de")  # EU lost
    assert not faithful("Luego habló Gómez.", "Then the mayor spoke.", "es")  # a name lost
    assert faithful("El Sr. Gómez pagó 13.700 euros.", "Mr Gómez paid 13,700 euros.", "es")
    with LoopbackServer() as server:
        llm = FakeLLM(server)

        def answer(request: dict[str, Any]) -> Response:
            if "You translate news bullets" not in request["messages"][0]["content"]:
                return completion(json.dumps(faithful_reply(request)))
            bullets = json.loads(request["messages"][1]["content"])["bullets"]
            out = [  # the vote count comes back wrong; the rest faithful
                {"id": b["id"], "text": "EN: " + re.sub(r"\b58\b", "85", b["text"])}
                for b in bullets
            ]
            return completion(json.dumps({"bullets": out}))

        llm.answer = answer
        settings = Settings(
            summarizer="llm",
            openai_base_url=llm.base_url,
            openai_api_key="sk-test",
            fetch_allow="127.0.0.1/32",
            lookback_hours=24 * 3650,
        )
        poster = RecordingPoster()
        core = build_core(settings, store=store, posters={"test": poster})
        seed_channel(
            store,
            tmp_path / "feed",
            [(PAGES / "de-bridge.txt").read_text(encoding="utf-8")],
            schedule=None,
        )
        channel = store.channel("test", "C1")
        assert channel is not None
        store.set_channel_settings(channel.id, language="en", translate=True)
        try:
            asyncio.run(core.deliverer.deliver(channel, "now-test", datetime.now(UTC)))
            [delivery] = store.deliveries()
            assert delivery.state == "sent"
            digest = asyncio.run(_digest_of(core, delivery.article_ids[0]))
        finally:
            core.workers.close()
    assert digest is not None
    vote = [b for b in digest.summary if "58 zu 21" in b.text]
    others = [b for b in digest.summary if b not in vote]
    assert vote and not vote[0].translated  # a number changed: the original stays
    assert others and all(b.translated and b.text.startswith("🌐 EN: ") for b in others)


async def _digest_of(core: Any, article_id: int) -> Any:
    made = await core.deliverer._channel_digest(
        core.store.channel("test", "C1"), "now-x", [article_id]
    )
    return made.digests[0] if made.digests else None


def test_never_a_silent_empty_digest(store: Store, tmp_path: Path) -> None:
    cut_off = tmp_path / "cut.txt"
    cut_off.write_text("Only a headline here\n\nThe council said\n\nAnd then the\n")
    run = newsdigest("digest", str(cut_off))
    assert run.returncode == 1 and "bullet" in run.stderr, run.stderr
    before = METRICS.articles_without_bullets._value.get()
    seed_channel(
        store, tmp_path / "feed", [cut_off.read_text()], since=datetime.now(UTC) - timedelta(days=1)
    )
    poster = RecordingPoster()
    core = build_core(Settings(lookback_hours=24 * 3650), store=store, posters={"test": poster})
    channel = store.channel("test", "C1")
    try:
        asyncio.run(core.deliverer.deliver(channel, "now-test", datetime.now(UTC)))
    finally:
        core.workers.close()
    [delivery] = store.deliveries()
    assert poster.posts == [] and delivery.state == "skipped"
    assert METRICS.articles_without_bullets._value.get() == before + 1
