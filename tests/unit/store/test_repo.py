"""The store itself: migrations match the models, codecs round-trip, claims are unique."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from support.paths import EXAMPLE

from bot.digest.article_digest import summarize_article
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.store.codec import article_from_dict, article_to_dict, digest_from_dict, digest_to_dict
from bot.store.models import Base
from bot.store.repo import Store
from bot.store.search import include_name


def test_migrations_create_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    significant = [
        d for d in diff if not (isinstance(d, tuple) and d[0] in ("modify_type", "modify_default"))
    ]
    assert significant == []


def test_article_and_digest_round_trip() -> None:
    article = build_article(parse_plaintext(EXAMPLE.read_text(), "example"))
    digest = summarize_article(article)
    again = article_from_dict(article_to_dict(article))
    assert again == article
    assert digest_from_dict(again, digest_to_dict(digest)) == digest


def test_a_slot_can_be_claimed_once(store: Store) -> None:
    channel = store.channel("test", "C1")
    assert channel is not None
    assert store.claim_delivery(channel.id, "2024-05-01T08:00") is not None
    assert store.claim_delivery(channel.id, "2024-05-01T08:00") is None
    assert store.first_receipt("slack:T1") and not store.first_receipt("slack:T1")
