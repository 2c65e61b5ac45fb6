"""The one wiring place: the settings decide the parts, and the parts are joined once."""

from __future__ import annotations

from pathlib import Path

from bot.chat.ask import answer_question
from bot.ops.settings import Settings
from bot.summarize.extractive import ExtractiveSummarizer
from bot.summarize.llm import LLMSummarizer
from bot.wiring import build_core, source_reader


def test_the_core_shares_one_store_cache_and_poster_registry(tmp_path: Path) -> None:
    core = build_core(Settings(data_dir=tmp_path))
    try:
        assert isinstance(core.summarizer, ExtractiveSummarizer)
        assert core.deliverer.digests is core.digests and core.poller.digests is core.digests
        assert core.deliverer.posters is core.posters is core.poller.posters
        services = core.services()
        assert services.answerer is answer_question and services.admin is core.admin
        assert not services.local_files and core.services(local_files=True).local_files
    finally:
        core.close()


def test_an_llm_summarizer_also_answers_questions(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        summarizer="llm",
        openai_base_url="http://127.0.0.1:9/v1",
        openai_api_key="sk-test",
    )
    core = build_core(settings)
    try:
        assert isinstance(core.summarizer, LLMSummarizer)
        assert core.services().answerer is not answer_question
    finally:
        core.close()
    reader = source_reader(Settings(follow_links=False))
    assert reader.pages is None  # following teaser links is off
