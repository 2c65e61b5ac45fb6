"""Turning the settings into the running bot's parts: the one place that does it.

Every other module takes its collaborators explicitly; here they are made once from the
settings and joined: the store and its async face, the workers, the summarizer, the digest
cache, the delivery engine, the poller, the channel use cases and the command handler.
Adapters receive the `Core` and add their platform's Poster; the command line builds only
the part it needs (a `SourceReader` for `digest FILE`), so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.ingest.netguard import AddressPolicy
from bot.ops.settings import Settings
from bot.summarize.base import Summarizer
from bot.summarize.extractive import ExtractiveSummarizer

if TYPE_CHECKING:  # fetching (httpx), the LLM client (openai) and the database load when used
    from bot.channels.admin import ChannelAdmin
    from bot.channels.memory import StoredChannelMemory
    from bot.channels.preferences import ChannelPreferences
    from bot.channels.templates import ChannelTemplates
    from bot.chat.handler import CommandHandler
    from bot.chat.services import Services
    from bot.delivery.engine import Deliverer
    from bot.delivery.pacing import PaceLimits, Pacer
    from bot.delivery.polling import SourcePoller, TeaserPages
    from bot.delivery.poster import Poster
    from bot.digest.cache import DigestCache
    from bot.digest.reader import Offload, SourceReader
    from bot.ingest.fetch import FetchOptions
    from bot.ingest.teasers import PageReader
    from bot.ops.signin import SignInLinks, SignIns
    from bot.store.async_store import AsyncStore
    from bot.store.pacing import PaceTable
    from bot.store.repo import Store
    from bot.summarize.llm import Completion, LLMOptions, SummaryCache
    from bot.summarize.translate import Translator
    from bot.workers import Workers


def fetch_options(settings: Settings) -> FetchOptions:
    from bot.ingest.fetch import FetchOptions

    return FetchOptions(
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout,
        policy=AddressPolicy.from_setting(settings.fetch_allow),
        proxy=settings.fetch_proxy,
    )


def polite_fetch_options(settings: Settings) -> FetchOptions:
    """For reading many pages: every fetch shares one per-host pacing and obeys robots.txt."""
    from bot.ingest.fetch import USER_AGENT
    from bot.ingest.politeness import Politeness

    return replace(
        fetch_options(settings),
        politeness=Politeness(settings.fetch_per_host, settings.fetch_host_interval, USER_AGENT),
    )


def llm_completion(settings: Settings) -> Completion | None:
    """The configured LLM's chat completion, when the LLM summarizer is chosen."""
    if settings.summarizer != "llm":
        return None
    from bot.summarize.llm import openai_completion

    return openai_completion(llm_options(settings))


def llm_options(settings: Settings) -> LLMOptions:
    from bot.summarize.llm import LLMOptions

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return LLMOptions(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=key,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )


def make_summarizer(
    settings: Settings, cache: SummaryCache | None = None, complete: Completion | None = None
) -> Summarizer:
    if settings.summarizer == "llm":
        from bot.summarize.llm import LLMSummarizer

        return LLMSummarizer(
            llm_options(settings), cache=cache, complete=complete or llm_completion(settings)
        )
    return ExtractiveSummarizer()


def source_reader(
    settings: Settings,
    summarizer: Summarizer | None = None,
    offload: Offload | None = None,
    pages: PageReader | None = None,
) -> SourceReader:
    """Sources → digests with this configuration; a feed's teaser items are followed to their
    articles through `pages` (the bot's shared reader) or a polite reader of their own."""
    from bot.digest.reader import SourceReader

    def page_reader() -> PageReader:
        from bot.ingest.teasers import PageReader

        return pages or PageReader(polite_fetch_options(settings))

    return SourceReader(
        summarizer or make_summarizer(settings),
        fetch_options(settings),
        page_reader if settings.follow_links else None,
        settings.follow_deadline,
        settings.summary_bullets,
        settings.section_bullets,
        offload,
    )


def database_threads(store: Store) -> int:
    """SQLite has one writer: two database threads queue writes instead of contending for the
    lock (whose busy handler sleeps up to 100 ms a try); a server database takes eight."""
    return 2 if store.engine.dialect.name == "sqlite" else 8


def make_pacer(
    store: Store, offload: Offload, limits: PaceLimits, scope: str, shared: bool = True
) -> Pacer:
    """The pacer for one platform's posts. On PostgreSQL (any number of replicas) its buckets
    are shared through the database, so the replicas together keep to the platform's limits;
    SQLite has one process, which paces alone, in memory."""
    from bot.delivery.pacing import Pacer, SharedPacer
    from bot.store.pacing import PaceTable

    if not shared or store.engine.dialect.name != "postgresql":
        return Pacer(limits)
    return SharedPacer(limits, PaceTable(store.engine, store.on_loop), offload, scope)


def delivery_engine(
    store: Store,
    summarizer: Summarizer,
    posters: Mapping[str, Poster],
    *,
    grace: timedelta = timedelta(hours=2),
    lookback: timedelta = timedelta(hours=48),
    max_articles: int = 10,
    language: str = "en",
    summary_bullets: int = 3,
    section_bullets: int = 3,
    workers: Workers | None = None,
    lease: timedelta | None = None,
    concurrency: int | None = None,
    translator: Translator | None = None,
    claim_every: float | None = None,
) -> Deliverer:
    """The delivery engine and what it needs (async store, digest cache), on its own: for the
    running bot, for benchmarks and for tests that drive it with a fake clock."""
    from bot.delivery.engine import CHANNEL_CONCURRENCY, CLAIM_EVERY, Deliverer, DeliveryPolicy
    from bot.delivery.leases import LEASE
    from bot.digest.cache import DigestCache
    from bot.store.async_store import AsyncStore
    from bot.workers import Workers

    async_store = AsyncStore(store, workers or Workers(database=database_threads(store)))
    digests = DigestCache(async_store, summarizer, summary_bullets, section_bullets)
    return Deliverer(
        async_store,
        digests,
        posters,
        DeliveryPolicy(grace, lookback, max_articles, language),
        lease=lease or LEASE,
        concurrency=concurrency or CHANNEL_CONCURRENCY,
        translator=translator,
        claim_every=claim_every or CLAIM_EVERY,
    )


class Core:
    """The running bot's parts, made once from the settings (see `build_core`)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        workers: Workers,
        async_store: AsyncStore,
        summarizer: Summarizer,
        digests: DigestCache,
        deliverer: Deliverer,
        poller: SourcePoller,
        reader: SourceReader,
        admin: ChannelAdmin,
        preferences: ChannelPreferences,
        templates: ChannelTemplates,
        memory: StoredChannelMemory,
        posters: dict[str, Poster],
        complete: Completion | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.workers = workers
        self.async_store = async_store
        self.summarizer = summarizer
        self.digests = digests
        self.deliverer = deliverer
        self.poller = poller
        self.reader = reader
        self.admin = admin
        self.preferences = preferences
        self.templates = templates
        self.memory = memory
        self.posters = posters
        self.complete = complete
        self._pace_tables: list[PaceTable] = []

    def pacer(self, limits: PaceLimits, scope: str) -> Pacer:
        """A platform adapter's pacer (`scope`: the platform), shared by the replicas on
        PostgreSQL unless `shared_pacing` is off; see `make_pacer`."""
        from bot.delivery.pacing import SharedPacer

        pacer = make_pacer(self.store, self.workers.db, limits, scope, self.settings.shared_pacing)
        if isinstance(pacer, SharedPacer):
            self._pace_tables.append(pacer.table)
        return pacer

    def add_poster(self, poster: Poster) -> None:
        """A platform is connected: deliveries, notices and `/digest now` reach it."""
        self.posters[poster.platform] = poster

    def services(self, local_files: bool = False) -> Services:
        from bot.chat.ask import answer_question, grounded_answerer
        from bot.chat.services import Services

        return Services(
            lookup=self.reader.newest_digest,
            memory=self.memory,
            answerer=grounded_answerer(self.complete) if self.complete else answer_question,
            admin=self.admin,
            preferences=self.preferences,
            templates=self.templates,
            admin_users=frozenset(self.settings.admin_users),
            local_files=local_files,
            language=self.settings.language,
            web=self.web_links(),
        )

    def sign_ins(self) -> SignIns:
        from bot.ops.signin import SignIns

        idle = timedelta(minutes=self.settings.web_session_idle_minutes)
        return SignIns(self.store, idle)

    def web_links(self) -> SignInLinks | None:
        """Sign-in links to the web console, or None when it is off."""
        from bot.ops.signin import SignInLinks

        base = self.settings.web_url
        return SignInLinks(self.sign_ins(), base, self.workers.db) if base else None

    def command_handler(self, local_files: bool = False) -> CommandHandler:
        from bot.chat.handler import CommandHandler

        return CommandHandler(self.services(local_files))

    def apply_config_channels(self) -> None:
        """Channels declared in the config file: subscriptions and schedules, idempotently."""
        from bot.delivery.polling import local_source
        from bot.delivery.schedule import parse_schedule
        from bot.ingest import is_url

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

    def close(self) -> None:
        self.workers.close()
        for table in self._pace_tables:
            table.close()
        if self.store.on_loop is not None:
            self.store.on_loop.close()
        self.store.engine.dispose()


def build_core(
    settings: Settings,
    posters: Mapping[str, Poster] | None = None,
    summarizer: Summarizer | None = None,
    store: Store | None = None,
) -> Core:
    from bot.channels.admin import ChannelAdmin
    from bot.channels.memory import StoredChannelMemory
    from bot.channels.preferences import ChannelPreferences, DigestDefaults
    from bot.channels.templates import ChannelTemplates
    from bot.delivery.polling import SourcePoller
    from bot.ingest.teasers import PageReader
    from bot.store.repo import Store, StoreSummaryCache
    from bot.workers import Workers

    store = store or Store.open(settings.database_url_value)
    workers = Workers(settings.summarize_concurrency, database_threads(store))
    complete = llm_completion(settings) if summarizer is None else None
    summarizer = summarizer or make_summarizer(settings, StoreSummaryCache(store), complete)
    connected: dict[str, Poster] = dict(posters or {})
    deliverer = delivery_engine(
        store,
        summarizer,
        connected,
        grace=timedelta(minutes=settings.grace_minutes),
        lookback=timedelta(hours=settings.lookback_hours),
        max_articles=settings.max_articles_per_digest,
        language=settings.language,
        summary_bullets=settings.summary_bullets,
        section_bullets=settings.section_bullets,
        workers=workers,
        concurrency=settings.delivery_concurrency,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        claim_every=settings.delivery_claim_seconds,
        translator=_translator(settings, complete, store),
    )
    async_store, digests = deliverer.store, deliverer.digests
    polite = polite_fetch_options(settings)
    pages = PageReader(polite)
    poller = SourcePoller(
        async_store,
        polite,
        connected,
        digests,
        follow=_teaser_pages(settings, pages),
        pause_after=settings.source_max_failures,
        concurrency=settings.poll_concurrency,
        language=settings.language,
    )
    reader = source_reader(settings, summarizer, workers.summarize, pages)
    admin = ChannelAdmin(async_store, digests, deliverer, poller, reader.fetch)
    preferences = ChannelPreferences(
        async_store,
        DigestDefaults(
            settings.max_articles_per_digest,
            settings.summary_bullets,
            settings.language,
            translate_available=settings.summarizer == "llm",
        ),
    )
    memory = StoredChannelMemory(async_store, digests)
    templates = ChannelTemplates(async_store, deliverer)
    return Core(
        settings,
        store,
        workers,
        async_store,
        summarizer,
        digests,
        deliverer,
        poller,
        reader,
        admin,
        preferences,
        templates,
        memory,
        connected,
        complete,
    )


def _translator(settings: Settings, complete: Completion | None, store: Store) -> Translator | None:
    """With an LLM configured, bullets can be translated into a channel's language."""
    if complete is None:
        return None
    from bot.store.repo import StoreSummaryCache
    from bot.summarize.translate import Translator

    return Translator(complete, StoreSummaryCache(store), settings.llm_model)


def _teaser_pages(settings: Settings, pages: PageReader) -> TeaserPages | None:
    from bot.delivery.polling import TeaserPages

    if not settings.follow_links or settings.follow_max_pages == 0:
        return None
    return TeaserPages(pages, settings.follow_max_pages, settings.follow_deadline)
