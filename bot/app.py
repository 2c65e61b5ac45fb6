"""The running bot's core: store, digest service, delivery engine and channel actions.

Adapters get a `Bot` and a `CommandHandler` from here; they add only their
platform's Poster and request translation.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.ask import Answer, answer_question, quotes_for
from bot.chat.commands import SETTINGS, Answerer, CommandContext, CommandHandler
from bot.curate.filters import parse_pattern
from bot.delivery.engine import Deliverer, Poster, database_threads, deliver_now
from bot.delivery.schedule import ScheduleError, parse_schedule
from bot.delivery.sources import (
    Follow,
    content_hash,
    identity_keys,
    local_source,
    poll_source,
)
from bot.delivery.workers import Workers
from bot.digest.sections import build_article
from bot.digest.service import DigestService, polite_fetch_settings
from bot.errors import FetchError, InputError, NewsdigestError
from bot.ingest import is_url, parse_bytes
from bot.ingest.fetch import fetch
from bot.ingest.follow import PageReader, followable
from bot.models import Article, Digest
from bot.ops.metrics import METRICS
from bot.ops.settings import Settings
from bot.singleflight import SingleFlight
from bot.store.repo import ChannelInfo, SourceInfo, Store, StoreSummaryCache
from bot.summarize.base import Summarizer

log = logging.getLogger(__name__)


class Bot:
    """Everything a platform adapter needs, built once from the settings."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        posters: Mapping[str, Poster] | None = None,
        summarizer: Summarizer | None = None,
    ) -> None:
        from bot.digest.service import make_summarizer

        self.settings = settings
        self.store = store
        self.service = DigestService(
            settings, summarizer or make_summarizer(settings, StoreSummaryCache(store))
        )
        self.posters: dict[str, Poster] = dict(posters or {})
        self.workers = Workers(settings.summarize_concurrency, database_threads(store))
        self.polite_fetch = polite_fetch_settings(settings)
        self.pages = PageReader(self.polite_fetch)
        self._polling: SingleFlight[str, int] = SingleFlight()
        self.deliverer = Deliverer(
            store,
            self.service.summarizer,
            self.posters,
            grace=timedelta(minutes=settings.grace_minutes),
            lookback=timedelta(hours=settings.lookback_hours),
            max_articles=settings.max_articles_per_digest,
            summary_bullets=settings.summary_bullets,
            section_bullets=settings.section_bullets,
            workers=self.workers,
            concurrency=settings.delivery_concurrency,
        )

    @classmethod
    def from_settings(cls, settings: Settings, posters: Mapping[str, Poster] | None = None) -> Bot:
        return cls(settings, Store.open(settings.database_url_value), posters)

    def add_poster(self, poster: Poster) -> None:
        self.posters[poster.platform] = poster

    def command_handler(self, local_files: bool = False) -> CommandHandler:
        return CommandHandler(
            self.load_digest,
            StoreChannelMemory(self),
            local_files,
            actions=BotChannelActions(self),
            admin_users=self.settings.admin_users,
            answerer=self._llm_answerer(),
        )

    def _llm_answerer(self) -> Answerer | None:
        """With an LLM configured, `/digest ask` asks it too (validated; quotes stay the proof)."""
        summarizer = self.service.summarizer
        complete = getattr(summarizer, "_complete", None)
        if getattr(summarizer, "name", "") != "llm" or complete is None:
            return None

        def answer(article: Article, question: str) -> Answer:
            from bot.summarize.llm import ask_article

            asked = ask_article(article, question, complete)
            if asked is None:
                return answer_question(article, question)
            text, ids = asked
            if text is None:
                return Answer(())  # the model found nothing: the article does not say
            return Answer(quotes_for(article, ids), said=text)

        return answer

    def load_digest(self, source: str) -> Digest:
        return self.service.first_digest(source)

    def channel(self, context: CommandContext) -> ChannelInfo:
        channel = self.store.channel(context.platform, context.channel_id)
        assert channel is not None
        return channel

    def thread_digests(
        self, platform: str, channel_id: str, thread_ref: str | None
    ) -> list[Digest]:
        """The articles of the digest posted in that thread, or the channel's latest article."""
        channel = self.store.channel(platform, channel_id, create=False)
        if channel is None:
            return []
        delivery = self.store.delivery_by_thread(channel.id, thread_ref) if thread_ref else None
        if delivery is not None and delivery.article_ids:
            ids = delivery.article_ids
        else:
            latest = self.store.last_article_id(channel.id)
            ids = [latest] if latest is not None else []
            if not ids and (sent := self.store.last_sent_delivery(channel.id)):
                ids = sent.article_ids[:1]
        return [d for d in (self.deliverer.digest_for(i) for i in ids) if d is not None]

    def apply_config_channels(self) -> None:
        """Channels declared in the config file: subscriptions and schedules, idempotently."""
        for declared in self.settings.channels:
            channel = self.store.channel(declared.platform, declared.channel)
            assert channel is not None
            for source in declared.sources:
                url = source if is_url(source) else local_source(source)
                self.store.subscribe(channel.id, url)
            if declared.schedule:
                schedule = parse_schedule(declared.schedule, declared.timezone)
                if (channel.schedule, channel.timezone) != (schedule.describe(), schedule.timezone):
                    self.store.set_schedule(channel.id, schedule.describe(), schedule.timezone)

    async def poll_sources(self, now: datetime | None = None) -> int:
        """Fetch every due source; callers that arrive during a poll share it.

        At 08:00 hundreds of channel jobs fire at once and each wants fresh articles: one
        poll serves them all instead of hundreds of overlapping ones."""
        return await self._polling.run("due", lambda: self._poll_due(now or datetime.now(UTC)))

    async def _poll_due(self, now: datetime) -> int:
        """Due sources concurrently (bounded overall; per host by the shared politeness)."""
        due = await self.workers.db(self.store.due_sources, now, reprobe_after=timedelta(hours=12))
        gate = asyncio.Semaphore(self.settings.poll_concurrency)

        async def one(source: SourceInfo) -> int:
            async with gate:
                return await self._poll_one(source, now)

        return sum(await asyncio.gather(*(one(s) for s in due)))

    async def _poll_one(self, source: SourceInfo, now: datetime) -> int:
        started = time.perf_counter()
        try:
            result = await poll_source(
                self.store,
                source,
                self.polite_fetch,
                now,
                pause_after=self.settings.source_max_failures,
                follow=self.follow,
            )
        except Exception:
            log.exception("polling %s failed unexpectedly", source.url)
            return 0
        finally:
            METRICS.poll_seconds.observe(time.perf_counter() - started)
        METRICS.fetched.inc(result.new_articles)
        for article_id in result.upgraded:
            self.deliverer.forget(article_id)
        if result.error:
            METRICS.source_failures.inc()
        if result.notice:
            channels = await self.workers.db(self.store.subscribed_channels, source.id)
            for channel in channels:
                poster = self.posters.get(channel.platform)
                if poster is not None:
                    try:
                        await poster.notice(channel.external_id, result.notice)
                    except Exception as exc:
                        log.warning(
                            "could not tell %s about a paused source: %s",
                            channel.external_id,
                            exc,
                        )
        return result.new_articles

    @property
    def follow(self) -> Follow | None:
        if not self.settings.follow_links or self.settings.follow_max_pages == 0:
            return None
        return Follow(self.pages, self.settings.follow_max_pages, self.settings.follow_deadline)


class StoreChannelMemory:
    """Channel memory kept in the database, so a restart keeps `/digest section …` working."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def last_digest(self, context: CommandContext) -> Digest | None:
        channel = self.bot.store.channel(context.platform, context.channel_id, create=False)
        if channel is None:
            return None
        article_id = self.bot.store.last_article_id(channel.id)
        if article_id is None:
            delivered = self.bot.store.last_sent_delivery(channel.id)
            article_id = delivered.article_ids[0] if delivered and delivered.article_ids else None
        return self.bot.deliverer.digest_for(article_id) if article_id is not None else None

    def remember(self, context: CommandContext, digest: Digest) -> None:
        article = digest.article
        channel = self.bot.channel(context)
        source = self.bot.store.source(article.url or article.source, kind="lookup")
        from bot.models import Document

        doc = Document(article.title, (), article.source, url=article.url)
        article_id, _ = self.bot.store.add_article(
            source.id,
            article,
            identity_keys(doc, article, source.id, False),
            content_hash(article),
            article.published,
        )
        if self.bot.store.cached_digest(article_id) is None:
            self.bot.store.save_digest(article_id, digest)
        self.bot.store.remember_article(channel.id, article_id)


class BotCurationActions:
    """Filters and channel settings, stored in the database and used on every platform."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def add_filter(self, context: CommandContext, action: str, pattern: str) -> str:
        parsed, is_regex = parse_pattern(pattern)  # FilterError reaches the user as a reply
        channel = self.bot.channel(context)
        rule = self.bot.store.add_filter(channel.id, action, parsed, is_regex)
        number = len(self.bot.store.filters(channel.id))
        verb = (
            "Keeping only items that match"
            if action == "include"
            else "Leaving out items that match"
        )
        return f"{verb} {rule.describe().split(' ', 1)[1]} (filter {number})."

    def list_filters(self, context: CommandContext) -> list[str]:
        channel = self.bot.channel(context)
        counts = self.bot.store.drop_counts(channel.id, datetime.now(UTC) - RECENT_DROPS)
        return [
            f"{rule.describe()} — dropped {counts.get(rule.id, 0)} item(s) in the last 7 days"
            for rule in self.bot.store.filters(channel.id)
        ]

    def remove_filter(self, context: CommandContext, number: int) -> str:
        channel = self.bot.channel(context)
        rules = self.bot.store.filters(channel.id)
        if not 1 <= number <= len(rules):
            raise NewsdigestError(f"No filter {number} here. See /digest filters for the numbers.")
        self.bot.store.remove_filter(channel.id, rules[number - 1].id)
        return f"Removed filter {number} ({rules[number - 1].describe()})."

    def clear_filters(self, context: CommandContext) -> str:
        removed = self.bot.store.clear_filters(self.bot.channel(context).id)
        return f"Removed {removed} filter(s)." if removed else "There were no filters to remove."

    def settings(self, context: CommandContext, name: str | None, value: str | None) -> str:
        channel = self.bot.channel(context)
        if name is not None:
            self.bot.store.set_channel_settings(channel.id, **_setting(name, value))
        current = self.bot.store.channel_settings(channel.id)
        defaults = self.bot.settings
        articles = current.articles_per_digest or defaults.max_articles_per_digest
        bullets = current.bullets_per_article or defaults.summary_bullets
        sections = "on" if current.list_sections is not False else "off"
        prefix = "Saved. " if name is not None else ""
        return (
            f"{prefix}Settings for this channel: articles {articles} per digest, "
            f"bullets {bullets} per article, sections {sections}. "
            "Change one with /digest settings articles 5 (admins)."
        )


class BotChannelActions(BotCurationActions):
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def first_request(self, request_id: str) -> bool:
        return self.bot.store.first_receipt(request_id)

    def sources(self, context: CommandContext) -> list[str]:
        rows = []
        for source in self.bot.store.channel_sources(self.bot.channel(context).id):
            status = (
                f" — paused: {source.last_error}"
                if source.paused
                else (f" — failing: {source.last_error}" if source.failures else "")
            )
            rows.append(f"{_display(source.url)}{status}")
        return rows

    def subscribe(self, context: CommandContext, url: str) -> str:
        if context.platform == "console" and not is_url(url) and Path(url).exists():
            return self._subscribe_local(
                context, url
            )  # the operator at the terminal may follow files
        if not url.lower().startswith(("http://", "https://")):
            raise InputError("Subscribe to an http(s) link of a feed or a page.")
        try:
            result = asyncio.run(fetch(url, self.bot.service.fetch))
            docs = parse_bytes(result.body, result.url, result.content_type, result.url)
        except (FetchError, InputError) as exc:
            raise NewsdigestError(f"Could not subscribe to {url}: {exc.message}") from exc
        if not any(followable(d) or build_article(d).sentences for d in docs):
            raise NewsdigestError(f"{url} has no readable articles.")
        channel = self.bot.channel(context)
        _source, created = self.bot.store.subscribe(channel.id, url)
        kind = "feed" if len(docs) > 1 or docs[0].guid else "page"
        if not created:
            return f"This channel already follows {url}."
        schedule_hint = (
            ""
            if channel.schedule
            else " Set a schedule with /digest schedule weekdays 08:00 Europe/Berlin."
        )
        return f"Following {url} ({kind}, {len(docs)} item{'s' * (len(docs) != 1)} now).{schedule_hint}"

    def _subscribe_local(self, context: CommandContext, path: str) -> str:
        channel = self.bot.channel(context)
        _source, created = self.bot.store.subscribe(channel.id, local_source(path))
        return f"Following {path}." if created else f"This channel already follows {path}."

    def unsubscribe(self, context: CommandContext, which: str) -> str:
        channel = self.bot.channel(context)
        sources = self.bot.store.channel_sources(channel.id)
        chosen = None
        if which.isdigit() and 1 <= int(which) <= len(sources):
            chosen = sources[int(which) - 1]
        else:
            chosen = next(
                (s for s in sources if s.url == which or s.url.rstrip("/") == which.rstrip("/")),
                None,
            )
        if chosen is None:
            raise NewsdigestError(f"No source '{which}' here. See /digest sources for the numbers.")
        self.bot.store.unsubscribe(channel.id, chosen.id)
        return f"Stopped following {_display(chosen.url)}."

    def schedule(self, context: CommandContext, when: str | None, timezone: str | None) -> str:
        channel = self.bot.channel(context)
        if when is None:
            if not channel.schedule:
                return "No schedule set. Example: /digest schedule weekdays 08:00 Europe/Berlin"
            paused = f" (paused: {channel.paused_reason})" if channel.paused else ""
            return f"Digests are posted {channel.schedule}{paused}."
        if when == "off":
            self.bot.store.set_schedule(channel.id, None, channel.timezone)
            return "Scheduled digests are off for this channel."
        try:
            schedule = parse_schedule(
                when, timezone or (channel.timezone if channel.schedule else None)
            )
        except ScheduleError as exc:
            raise NewsdigestError(exc.message) from exc
        self.bot.store.set_schedule(channel.id, schedule.describe(), schedule.timezone)
        if channel.paused:
            self.bot.store.resume_channel(channel.id)
        return f"Digests will be posted {schedule.describe()}."

    def latest(self, context: CommandContext) -> tuple[Digest, ...]:
        channel = self.bot.store.channel(context.platform, context.channel_id, create=False)
        delivery = self.bot.store.last_sent_delivery(channel.id) if channel else None
        if delivery is None:
            return ()
        digests = (self.bot.deliverer.digest_for(i) for i in delivery.article_ids)
        return tuple(d for d in digests if d is not None)

    async def digest_now(self, context: CommandContext) -> str:
        channel = self.bot.channel(context)
        if channel.platform not in self.bot.posters:
            raise NewsdigestError("This channel's platform is not connected right now.")
        await self.bot.poll_sources()
        delivery = await deliver_now(self.bot.deliverer, channel)
        if delivery is None or delivery.state == "skipped":
            return "Nothing new since the last digest."
        if delivery.state == "sent":
            return f"Posted a digest of {len(delivery.article_ids)} article(s)."
        return f"The digest could not be posted yet ({delivery.error}); it will be retried."


def _setting(name: str, value: str | None) -> dict[str, int | bool | None]:
    if name not in SETTINGS:
        guess = difflib.get_close_matches(name, list(SETTINGS), n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else ""
        raise NewsdigestError(
            f"Unknown setting '{name}'.{hint} Settings: articles, bullets, sections."
        )
    if value is None:
        raise NewsdigestError(f"Give a value: /digest settings {name} …")
    if name == "sections":
        if value.lower() not in ("on", "off", "yes", "no", "true", "false"):
            raise NewsdigestError("Sections are 'on' or 'off'.")
        return {"list_sections": value.lower() in ("on", "yes", "true")}
    low, high = SETTINGS[name] or (1, 1)
    if not value.isdigit() or not low <= int(value) <= high:
        raise NewsdigestError(f"{name.capitalize()} must be a number from {low} to {high}.")
    column = "articles_per_digest" if name == "articles" else "bullets_per_article"
    return {column: int(value)}


RECENT_DROPS = timedelta(days=7)


def _display(url: str) -> str:
    return url.removeprefix("path:")
