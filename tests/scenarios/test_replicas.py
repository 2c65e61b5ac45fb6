"""Several `serve` replicas on one PostgreSQL share a rush, and finish a killed one's work.

Real processes (tests/support/replica_worker.py: the real Runner with its leader lock,
scheduler jobs and claim loop) and the real database; the platform is a file each post is
appended to. Leases are short here (2 s) so that a takeover happens within the test; what
is asserted are counts and orders: every part of every digest posted exactly once, each
replica posting part of the rush, a killed replica's unfinished digests finished by the
others, and the platform asked only about parts whose request had left.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from support.databases import own_postgres
from support.paths import ROOT
from support.seeding import harbour_story, seed_channel

from bot.store.repo import DeliveryInfo, Store

CHANNELS = 30
ARTICLES = 2  # so three parts a digest: the top message and one reply per article
LEASE = 2.0
PER_REPLICA = 3  # deliveries a replica holds at once
DEADLINE = 120.0  # seconds: far beyond what the rush needs, only so a broken run ends


def seed(store: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)  # the slot fell due a minute ago: within the grace period
    for c in range(CHANNELS):
        seed_channel(
            store,
            tmp_path / f"feed{c}",
            (harbour_story(c, a) for a in range(ARTICLES)),
            platform="file",
            channel_id=f"C{c}",
            schedule=f"daily {due:%H:%M} UTC",
            since=now - timedelta(hours=1),
        )


def start(
    url: str, work: Path, rate: float | None = None, lease: float = LEASE, name: str | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    if name is not None:
        env["NEWSDIGEST_REPLICA_NAME"] = name
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "support" / "replica_worker.py"),
            url,
            str(work),
            str(lease),
            str(PER_REPLICA),
            *([] if rate is None else [str(rate)]),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def seeded(database_url: str, tmp_path: Path) -> tuple[Store, Path]:
    """The rush's channels in the database, and the replicas' work folder (the platform)."""
    store = Store.open(database_url)
    seed(store, tmp_path)
    work = tmp_path / "platform"
    work.mkdir()
    return store, work


def stop(work: Path, workers: list[subprocess.Popen[bytes]]) -> None:
    """Tell the replicas to stop cleanly; kill one that has not after 30 s."""
    (work / "stop").write_text("")
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_until(check: Any, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def settled(store: Store) -> bool:
    try:
        deliveries = store.deliveries()
    except OperationalError:  # the database is restarting
        return False
    return len(deliveries) == CHANNELS and all(d.state != "sending" for d in deliveries)


def run_rush(
    database_url: str,
    tmp_path: Path,
    replicas: int,
    kill_after: int | None = None,
    rate: float | None = None,
) -> tuple[Store, list[dict[str, Any]], int | None, list[DeliveryInfo]]:
    """Start the replicas together (pacing their posts to `rate` a second overall, if given);
    optionally SIGKILL one once it has posted `kill_after` parts. Returns the store, the
    posts, the killed pid and the rows it held when killed."""
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database (SQLite runs one process)")
    store, work = seeded(database_url, tmp_path)
    workers = [start(database_url, work, rate) for _ in range(replicas)]
    victim: int | None = None
    held: list[DeliveryInfo] = []
    try:
        wait_until(lambda: len(list(work.glob("ready-*"))) == replicas, "the replicas to start")
        (work / "go").write_text("")
        if kill_after is not None:
            posts = work / "posts.jsonl"
            wait_until(
                lambda: (
                    max(Counter(p["pid"] for p in lines(posts)).values(), default=0) >= kill_after
                ),
                "a replica to post",
            )
            victim = Counter(p["pid"] for p in lines(posts)).most_common(1)[0][0]
            os.kill(victim, signal.SIGKILL)
            next(w for w in workers if w.pid == victim).wait()
            owner = (work / f"ready-{victim}").read_text()
            held = [
                d for d in store.deliveries() if d.lease_owner == owner and d.state == "sending"
            ]
        wait_until(lambda: settled(store), "every digest to be posted")
    finally:
        stop(work, workers)
    for worker in workers:
        if worker.pid != victim:
            assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
    return store, lines(work / "posts.jsonl"), victim, held


def replica_metrics(tmp_path: Path, name: str) -> dict[int, float]:
    """Each surviving replica's own value of a counter, as its /metrics showed it."""
    found = {}
    for path in (tmp_path / "platform").glob("metrics-*.prom"):
        match = re.search(rf"^{name} (\S+)$", path.read_text(), re.M)
        found[int(path.stem.split("-")[1])] = float(match[1]) if match else 0.0
    return found


def assert_every_part_once(store: Store, posts: list[dict[str, Any]]) -> None:
    keys = Counter(p["key"] for p in posts)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]  # 0 doubles
    deliveries = store.deliveries()
    assert Counter(d.state for d in deliveries) == {"sent": CHANNELS}
    expected = {f"nd{d.id}p{n}" for d in deliveries for n in range(1 + ARTICLES)}
    assert set(keys) == expected  # 0 missing
    assert {d.parts_sent for d in deliveries} == {1 + ARTICLES}


def test_replicas_share_one_rush(database_url: str, tmp_path: Path) -> None:
    store, posts, _victim, _held = run_rush(database_url, tmp_path, replicas=3)
    assert_every_part_once(store, posts)
    by_replica = Counter(p["pid"] for p in posts)
    assert len(by_replica) == 3  # every replica posted part of the rush, not the leader alone
    assert not (tmp_path / "platform" / "finds.jsonl").exists()  # no crash: no lookups
    claims = replica_metrics(tmp_path, "newsdigest_delivery_claims_total")
    assert set(claims) == set(by_replica) and all(n > 0 for n in claims.values())
    assert sum(claims.values()) >= CHANNELS  # each replica counts its own claims
    store.engine.dispose()


def test_a_replica_killed_mid_rush_is_replaced(database_url: str, tmp_path: Path) -> None:
    store, posts, victim, held = run_rush(database_url, tmp_path, replicas=3, kill_after=4)
    assert_every_part_once(store, posts)
    assert held  # it died holding digests half done or not begun
    for delivery in held:  # the survivors finished each, in order, after the victim's parts
        parts = [p for p in posts if p["key"].startswith(f"nd{delivery.id}p")]
        assert [p["key"] for p in parts] == [f"nd{delivery.id}p{n}" for n in range(1 + ARTICLES)]
        senders = [p["pid"] for p in parts]
        done = delivery.parts_sent
        assert senders[:done] == [victim] * done  # what it had recorded
        assert victim not in senders[done + 1 :]  # what it never began
        if senders[done] == victim:  # out before it died, unrecorded: found, not re-sent
            assert delivery.part_in_flight == done
    finds = lines(tmp_path / "platform" / "finds.jsonl")
    in_flight = {f"nd{d.id}p{d.part_in_flight}" for d in held if d.part_in_flight is not None}
    assert {f["key"] for f in finds} <= in_flight  # lookups only for parts that may be out
    assert victim not in {f["pid"] for f in finds}
    assert len(finds) == len({f["key"] for f in finds})
    takeovers = replica_metrics(tmp_path, "newsdigest_delivery_takeovers_total")
    expiries = replica_metrics(tmp_path, "newsdigest_delivery_lease_expiries_total")
    assert victim not in takeovers and len(takeovers) == 2  # the survivors' own counts
    assert sum(takeovers.values()) >= len(held) and sum(expiries.values()) >= len(held)
    store.engine.dispose()


def test_replicas_keep_to_the_overall_rate_together(database_url: str, tmp_path: Path) -> None:
    """Each replica alone may post RATE a second (and would: it holds three digests at once and
    a post takes 0.1 s); together they still post RATE a second, not 3 × RATE, because their
    pacers share the overall bucket through PostgreSQL."""
    rate = 15.0
    store, posts, _victim, _held = run_rush(database_url, tmp_path, replicas=3, rate=rate)
    assert_every_part_once(store, posts)
    assert len(Counter(p["pid"] for p in posts)) == 3  # all of them posted, paced together
    sent = sorted(p["at"] for p in posts)
    busiest = max(bisect.bisect_left(sent, t + 1.0) - n for n, t in enumerate(sent))
    # the database spaces the permits by 1 / (0.92 × RATE); between a permit and its request
    # leaving come a round trip and an event loop's wake-up. Allowing a tenth of a second of
    # that jitter, a second holds at most 1.1 s worth of permits, plus the one at its edge
    assert busiest <= int(1.1 * 0.92 * rate) + 1  # unshared, three replicas post ~3 × RATE
    store.engine.dispose()


def test_a_replica_killed_and_restarted_resumes_its_own_digests_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """One replica named `bot-1`, its leases ten minutes long, killed mid-rush and started
    again under its name: the new process frees the dead one's leases and finishes the rush
    (waiting them out would take far longer than the test's deadline), asking the platform
    only about parts that were in flight."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the name is an advisory lock here (tests/unit/delivery covers SQLite)")
    store, work = seeded(database_url, tmp_path)
    posts = work / "posts.jsonl"
    first = start(database_url, work, lease=600.0, name="bot-1")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: (work / f"ready-{first.pid}").exists(), "the replica to start")
        (work / "go").write_text("")
        wait_until(lambda: len(lines(posts)) >= 4, "the replica to post")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        owner = (work / f"ready-{first.pid}").read_text()
        assert owner.startswith("bot-1:")
        held = [d for d in store.deliveries() if d.lease_owner == owner and d.state == "sending"]
        assert held  # it died holding digests
        second = start(database_url, work, lease=600.0, name="bot-1")
        wait_until(lambda: settled(store), "every digest to be posted")
    finally:
        stop(work, [w for w in (first, second) if w is not None])
    assert second.returncode == 0, second.stderr.read() if second.stderr else ""
    sent = lines(posts)
    assert_every_part_once(store, sent)
    assert {p["pid"] for p in sent} == {first.pid, second.pid}
    finds = lines(work / "finds.jsonl")
    in_flight = {f"nd{d.id}p{d.part_in_flight}" for d in held if d.part_in_flight is not None}
    assert {f["key"] for f in finds} <= in_flight  # lookups only for parts that may be out
    store.engine.dispose()


def test_a_database_restart_mid_rush_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """Two replicas on a PostgreSQL server of the test's own, restarted (every connection cut)
    once the rush is under way: the replicas reconnect and finish it, every part posted
    exactly once, and both keep running (a clean stop afterwards)."""
    with own_postgres() as (database_url, restart):
        store, work = seeded(database_url, tmp_path)
        posts = work / "posts.jsonl"
        workers = [start(database_url, work) for _ in range(2)]
        try:
            wait_until(lambda: len(list(work.glob("ready-*"))) == 2, "the replicas to start")
            (work / "go").write_text("")
            wait_until(lambda: len(lines(posts)) >= 6, "the replicas to post")
            restart()
            during = len(lines(posts))
            wait_until(lambda: settled(store), "every digest to be posted")
        finally:
            stop(work, workers)
        for worker in workers:  # each survived the outage and stopped cleanly
            assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
        sent = lines(posts)
        assert during < len(sent)  # the rush went on after the restart
        assert_every_part_once(store, sent)
        store.engine.dispose()
