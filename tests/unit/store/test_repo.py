"""The store itself: migrations match the models, codecs round-trip, claims are unique."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
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


def _due_rows(store: Store, count: int, platform: str = "test") -> list[int]:
    ids = []
    for n in range(count):
        channel = store.channel(platform, f"C{n}")
        assert channel is not None
        made = store.claim_delivery(channel.id, "2024-05-01T08:00", now=T0)
        assert made is not None and made.lease_owner is None  # made unclaimed, for any replica
        ids.append(made.id)
    return ids


T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=12)


def test_claims_are_bounded_disjoint_and_lapse(store: Store) -> None:
    ids = _due_rows(store, 5)
    a = store.claim_due("a", T0, T0 + LEASE, 2, ["test"])
    b = store.claim_due("b", T0, T0 + LEASE, 10, ["test"])
    assert [c.delivery.id for c in a] == ids[:2] and [c.delivery.id for c in b] == ids[2:]
    assert all(c.previous_owner is None for c in a + b)
    assert store.claim_due("c", T0 + timedelta(seconds=11), T0 + LEASE, 10, ["test"]) == []
    # a's leases lapse (it stopped renewing); b renewed its own
    assert store.renew_leases(ids[2:], "b", T0 + 2 * LEASE) == set(ids[2:])
    later = T0 + LEASE
    taken = store.claim_due("c", later, later + LEASE, 10, ["test"])
    assert [(c.delivery.id, c.previous_owner) for c in taken] == [(i, "a") for i in ids[:2]]
    assert all(c.previous_until == T0 + LEASE for c in taken)
    assert store.renew_leases(ids[:2], "a", later + LEASE) == set()  # a learns it lost them


def test_claims_skip_retries_paused_channels_other_platforms_and_excluded_rows(
    store: Store,
) -> None:
    ids = _due_rows(store, 4)
    [other] = _due_rows(store, 1, platform="discord")
    store.delivery_attempt(ids[0], "boom", T0 + timedelta(minutes=1), "sending")
    paused = store.delivery_by_id(ids[1])
    assert paused is not None
    store.pause_channel(paused.channel_id, "no access")
    hour = T0 + timedelta(hours=1)
    claimed = store.claim_due("a", T0, hour, 10, ["test"], exclude=[ids[3]])
    assert [c.delivery.id for c in claimed] == [ids[2]]
    retried = store.claim_due("a", T0 + timedelta(minutes=1), T0 + LEASE, 10, ["test", "discord"])
    assert sorted(c.delivery.id for c in retried) == sorted([ids[0], ids[3], other])


def test_a_released_row_is_free_at_once_and_remembers_its_owner(store: Store) -> None:
    [row] = _due_rows(store, 1)
    assert len(store.claim_due("a", T0, T0 + LEASE, 1, ["test"])) == 1
    store.part_starting(row, 0)
    store.release_lease(row, "a")  # a failure it survived: the row is free for anyone now
    assert store.renew_leases([row], "a", T0 + 2 * LEASE) == {row}  # still a's, not renewed
    [again] = store.claim_due("b", T0, T0 + LEASE, 1, ["test"])
    assert again.previous_owner == "a" and again.previous_until is None
    assert again.delivery.part_in_flight == 0  # the part may be out: b must ask first
    store.part_sent(row, 0, "m1", "m1")
    fresh = store.delivery_by_id(row)
    assert fresh is not None and fresh.part_in_flight is None and fresh.parts_sent == 1
    assert store.release_leases("b") == 1
    assert store.claim_due("c", T0, T0 + LEASE, 1, ["test"])[0].previous_owner == "b"


def test_a_restarted_replica_frees_only_its_dead_runs_leases(store: Store) -> None:
    """`NAME:` prefixes, compared literally: `web-1:` is not `web-10:` and `_` is no wildcard."""
    ids = _due_rows(store, 6)
    owners = ["web-1:7:old", "web-1:8:new", "web-10:7:x", "web-1+9:y", "web_1:7:z", "web-1:6:q"]
    for row, owner in zip(ids, owners, strict=True):
        assert [c.delivery.id for c in store.claim_due(owner, T0, T0 + LEASE, 1, ["test"])] == [row]
    store.set_delivery_state(ids[5], "sent")  # finished rows are left as they are
    assert store.release_predecessors("web-1:", "web-1:8:new") == 1
    [taken] = store.claim_due("b", T0, T0 + LEASE, 10, ["test"])
    assert (taken.delivery.id, taken.previous_owner) == (ids[0], "web-1:7:old")  # resumed


def test_a_claim_skips_rows_another_replica_is_claiming(store: Store) -> None:
    """PostgreSQL: rows locked by another replica's claim are skipped, not waited for."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite runs one process)")
    ids = _due_rows(store, 6)
    with store.engine.connect() as other:  # another replica, mid-claim on the first three
        other.execute(
            text("SELECT id FROM deliveries WHERE id = ANY(:ids) FOR UPDATE"), {"ids": ids[:3]}
        )
        claimed = store.claim_due("b", T0, T0 + LEASE, 6, ["test"])
        assert [c.delivery.id for c in claimed] == ids[3:]
        other.rollback()
    assert [c.delivery.id for c in store.claim_due("c", T0, T0 + LEASE, 6, ["test"])] == ids[:3]


def test_many_channels_inputs_read_together_match_each_channels_own(store: Store) -> None:
    """Channels sharing some sources, with articles old and new, one already delivered to one
    channel, and a cap: the batched read gives each channel what its own read would, and the
    candidates' articles with the digests stored with them."""
    now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    shared, own = store.source("https://example.org/shared.xml"), store.source("path:/own")
    ids = []
    for n in range(6):
        article = build_article(
            parse_plaintext(f"Story {n}\n\nThe council met for the {n}th time.\n", f"s{n}")
        )
        source = shared if n % 2 else own
        when = now - timedelta(days=10 if n == 0 else n)  # the first is too old
        article_id, _new = store.add_article(source.id, article, [f"k{n}"], f"h{n}", when)
        ids.append(article_id)
    store.save_digest(ids[3], summarize_article(store.article(ids[3])))  # type: ignore[arg-type]
    channels = [store.channel("test", name) for name in ("A", "B", "C", "D")]
    a, b, c, gone = (ch.id for ch in channels if ch is not None)
    for channel_id, urls in ((a, [shared.url]), (b, [shared.url, own.url]), (c, [])):
        for url in urls:
            store.subscribe(channel_id, url)
    delivery = store.claim_delivery(b, "2024-04-30T08:00", now=now)
    assert delivery is not None
    store.plan_delivery(delivery.id, [ids[1]], 1)
    store.finish_delivery(delivery.id)  # article 1 was delivered to B
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM channels WHERE id = :i"), {"i": gone})
    since = now - timedelta(days=7)
    for cap in (2, 300):
        found = store.delivery_inputs_many([a, b, c, gone], since, cap)
        assert set(found) == {a, b, c}
        for channel_id, inputs in found.items():
            assert inputs.candidates == store.new_articles_for(channel_id, since, cap)
            assert set(inputs.articles) == set(inputs.candidates)
            assert inputs.articles == store.articles(inputs.candidates)
            assert set(inputs.stored_digests) == {ids[3]} & set(inputs.candidates)
    full = store.delivery_inputs_many([a, b, c], since, 300)
    assert full[a].candidates == [ids[1], ids[3], ids[5]]
    assert full[b].candidates == [ids[2], ids[3], ids[4], ids[5]]  # not 1: it had it
    assert full[c].candidates == []
    assert store.delivery_inputs_many([a], since, 0)[a].candidates == []  # a planned one


def test_a_part_recorded_twice_changes_nothing_and_a_settled_row_stays_settled(
    store: Store,
) -> None:
    """Two senders may record the same part (a takeover: the old one records what the new one
    found already posted): the second record is a no-op, with or without the refs the sender
    holds, and recording the last part again on a sent row leaves it as it was."""
    channel = store.channel("test", "C1")
    assert channel is not None
    delivery = store.claim_delivery(channel.id, "2024-05-01T08:00")
    assert delivery is not None
    store.plan_delivery(delivery.id, [], 2)
    until = datetime(2030, 1, 1, tzinfo=UTC)
    assert store.part_sent(delivery.id, 0, "m0", "m0", until, refs=["m0"]) is None
    assert store.part_sent(delivery.id, 0, "m0", "m0", until, refs=["m0"]) is None
    assert store.part_sent(delivery.id, 0, "m0", "m0", until) is None
    row = store.delivery_by_id(delivery.id)
    assert row is not None and (row.parts_sent, row.message_refs) == (1, ["m0"])
    final = store.part_sent(delivery.id, 1, "m1", "m0", until, finish=True, refs=["m0", "m1"])
    assert final is not None and final.state == "sent" and final.message_refs == ["m0", "m1"]
    for refs in (["m0", "m1"], None):  # again: the row stays as it was settled
        again = store.part_sent(delivery.id, 1, "m1", "m0", until, finish=True, refs=refs)
        assert again is not None and again.state == "sent" and again.message_refs == ["m0", "m1"]
    assert store.delivery_by_id(delivery.id) == final


def test_slot_rows_are_made_once_with_the_models_defaults(store: Store) -> None:
    now = datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)
    a, b = (store.channel("slack", name) for name in ("A", "B"))
    assert a is not None and b is not None
    rows = [
        (a.id, "2024-05-01T08:00", "sending", None),
        (b.id, "2024-05-01T08:00", "skipped", "late"),
    ]
    assert store.add_slot_rows(rows, now) == {
        (a.id, "2024-05-01T08:00"),
        (b.id, "2024-05-01T08:00"),
    }
    assert store.add_slot_rows(rows, now) == set()  # made once, whoever tries again
    made = {d.channel_id: d for d in store.deliveries()}
    assert (made[a.id].state, made[a.id].error, made[b.id].state, made[b.id].error) == (
        "sending",
        None,
        "skipped",
        "late",
    )
    for row in made.values():
        assert (row.article_ids, row.message_refs, row.parts_total, row.parts_sent) == (
            [],
            [],
            0,
            0,
        )
        assert (row.attempts, row.created_at, row.lease_owner, row.plan) == (0, now, None, None)
