"""A rush shared by replicas on one PostgreSQL, and one replica killed mid-rush (`kill -9`).

Each replica is a process of its own (bench/replica_worker.py: the bot's claim loop, the Slack
poster and its pacer, shared through PostgreSQL) posting to the rate-limited loopback Slack
(bench/loopback_servers.py: 1 post/s per channel with bursts of 3, 100 posts/s overall, 50 ms
a call), which runs in another process and tells when it accepted each part. N channels each
follow a feed of their own with one new article, so a digest is two posts (the top message
and one reply) and nothing is shared between channels (as in bench/rush.py). At "go" the slot
falls due: the first replica makes the slot's rows, as the leader's tick does, and every
replica claims and posts them.

Reported per configuration: posts, the rate-limit floor (posts ÷ 100/s), time from the slot to
the last accepted post and its ratio to the floor, CPU per channel digest (the replicas' own
CPU, user + system, summed, over the channels; the database and the platform are other
processes), 429s, doubles (a part accepted twice) and missing parts. The chaos run kills one
of three replicas, the one that made the slot's rows (as the leader does), at slot + 3 s (once
the rows exist) and also reports how many
deliveries it held, the takeover (the first post of one of those by a survivor, after the
kill), when the last of them was done, and how many platform lookups (history calls) the
survivors made.

    python -m bench.replicas [CHANNELS [CHAOS_CHANNELS]]    default: 10000 2000

Needs `initdb`/`pg_ctl` (PostgreSQL): a throwaway server is started with scripts/pg-test-server
(NEWSDIGEST_BENCH_DATABASE_URL points it at a running one instead).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.rush import server, stats, story
from bot.delivery.polling import content_hash
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.store.db import normalize_url
from bot.store.repo import Store

ROOT = Path(__file__).resolve().parents[1]
OVERALL = 100.0  # Slack's posts per second for the workspace (the loopback enforces it)
KILL_AT = 3.0  # seconds after the slot
DEADLINE = 900.0  # seconds: only so that a broken run ends
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    label: str
    replicas: int
    channels: int
    posts: int
    floor: float
    last_post: float
    cpu_ms_per_channel: float
    rejected: int
    doubles: int
    missing: int
    held: int = 0
    takeover: float | None = None
    held_done: float | None = None
    lookups: int = 0


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL (or the one NEWSDIGEST_BENCH_DATABASE_URL names)."""
    given = os.environ.get("NEWSDIGEST_BENCH_DATABASE_URL")
    if given:
        yield given
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="nd-bench-pg-")
    env = {**os.environ, "NEWSDIGEST_PG_PORT": str(port), "NEWSDIGEST_PG_DIR": folder}
    script = str(ROOT / "scripts" / "pg-test-server")
    url = subprocess.run(
        [script, "start"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop"], env=env, check=False)


def database(admin_url: str, name: str, template: str | None = None) -> str:
    """A fresh database on the server (a copy of `template` when given); returns its URL."""
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def seed(url: str, channels: int) -> None:
    """N Slack channels, each following a feed of its own with one new article."""
    store = Store.open(url)
    since = datetime.now(UTC) - timedelta(hours=1)
    for c in range(channels):
        channel = store.channel("slack", str(200_000 + c))
        assert channel is not None
        source, _ = store.subscribe(channel.id, f"https://example.org/slack/{c}.xml")
        article = build_article(parse_plaintext(story(c, 0), f"feed-{c}"))
        store.add_article(source.id, article, [f"hash:{c}:0"], content_hash(article), since)
    store.engine.dispose()


def make_due(url: str) -> None:
    """Every channel's daily slot fell due a minute ago (within the grace period)."""
    now = datetime.now(UTC)
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE channels SET schedule = :s, timezone = 'UTC', schedule_since = :since"),
            {
                "s": f"daily {now - timedelta(minutes=1):%H:%M} UTC",
                "since": now - timedelta(hours=1),
            },
        )
    engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_until(check: Any, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.2)


def settled(engine: Any, channels: int) -> bool:
    with engine.connect() as conn:
        made, open_ = conn.execute(
            text("SELECT count(*), count(*) FILTER (WHERE state = 'sending') FROM deliveries")
        ).one()
    return bool(made == channels and open_ == 0)


def run(admin_url: str, template: str, channels: int, replicas: int, kill: bool = False) -> Result:
    url = database(admin_url, "nd_bench_run", template)
    make_due(url)
    process, slack_url = server("slack")
    engine = create_engine(normalize_url(url))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.replica_worker", url, slack_url, tmp, role],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for role in ["lead", *["follow"] * (replicas - 1)]
        ]
        victim = workers[0] if kill else None  # the lead, as a killed leader would be
        cpu: dict[int, float] = {}
        held: set[int] = set()
        killed_at = 0.0
        try:
            wait_until(lambda: len(list(work.glob("ready-*"))) == replicas, "the replicas")
            start = {w.pid: cpu_seconds(w.pid) for w in workers}
            slot = time.monotonic()
            (work / "go").write_text("")
            if victim is not None:
                wait_until(lambda: (work / "made").exists(), "the slot's rows")
                time.sleep(max(slot + KILL_AT - time.monotonic(), 0))
                cpu[victim.pid] = cpu_seconds(victim.pid) - start[victim.pid]
                os.kill(victim.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                victim.wait()
                owner = (work / f"ready-{victim.pid}").read_text()
                with engine.connect() as conn:
                    held = set(
                        conn.scalars(
                            text(
                                "SELECT id FROM deliveries WHERE lease_owner = :o "
                                "AND state = 'sending'"
                            ),
                            {"o": owner},
                        )
                    )
            wait_until(lambda: settled(engine, channels), "every digest")
            for w in workers:
                if w is not victim:
                    cpu[w.pid] = cpu_seconds(w.pid) - start[w.pid]
            seen = stats(slack_url)
            with engine.connect() as conn:
                parts = {
                    int(i): int(n or 0)
                    for i, n in conn.execute(
                        text("SELECT id, parts_total FROM deliveries WHERE state = 'sent'")
                    )
                }
                unsent = conn.scalar(text("SELECT count(*) FROM deliveries WHERE state <> 'sent'"))
        finally:
            (work / "stop").write_text("")
            for w in workers:
                try:
                    w.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
            engine.dispose()
    posted_at: dict[str, float] = {}
    for key, at in seen["posted_at"]:
        posted_at.setdefault(key, at)
    accepted = Counter(key for key, _at in seen["posted_at"])
    expected = {f"nd{d}p{n}" for d, total in parts.items() for n in range(total)}
    missing = len(expected - set(accepted)) + int(unsent or 0)
    posts = 2 * channels
    result = Result(
        label=f"{channels} channels, {replicas} replica{'s' if replicas > 1 else ''}"
        + (", one killed at slot + 3 s" if kill else ""),
        replicas=replicas,
        channels=channels,
        posts=posts,
        floor=posts / OVERALL,
        last_post=max(posted_at.values()) - slot,
        cpu_ms_per_channel=1000 * sum(cpu.values()) / channels,
        rejected=int(seen["rejected"]),
        doubles=sum(n - 1 for n in accepted.values()),
        missing=missing,
    )
    if victim is not None:
        theirs = [
            at
            for key, at in posted_at.items()
            if int(key[2:].split("p")[0]) in held and at > killed_at
        ]
        result.held = len(held)
        result.takeover = min(theirs) - killed_at if theirs else None
        result.held_done = max(theirs) - killed_at if theirs else None
        result.lookups = int(seen["lookups"])
    return result


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv if a.isdigit()]
    channels = sizes[0] if sizes else 10_000
    chaos = sizes[1] if len(sizes) > 1 else 2_000
    print("Replicas on one PostgreSQL against the rate-limited loopback Slack (100 posts/s)")
    with postgres() as admin_url:
        for n in sorted({channels, chaos}):
            database(admin_url, f"nd_bench_seed_{n}")
            seed(f"{admin_url.rsplit('/', 1)[0]}/nd_bench_seed_{n}", n)
        runs = [(channels, 1, False), (channels, 2, False), (chaos, 3, True)]
        print(
            f"{'run':50} {'posts':>6} {'floor s':>7} {'last s':>7} {'ratio':>6} "
            f"{'CPU ms/ch':>9} {'429s':>5} {'doubles':>7} {'missing':>7}"
        )
        chaos_result = None
        for size, replicas, kill in runs:
            r = run(admin_url, f"nd_bench_seed_{size}", size, replicas, kill)
            print(
                f"{r.label:50} {r.posts:>6} {r.floor:>7.1f} {r.last_post:>7.1f} "
                f"{r.last_post / r.floor:>6.2f} {r.cpu_ms_per_channel:>9.1f} {r.rejected:>5} "
                f"{r.doubles:>7} {r.missing:>7}",
                flush=True,
            )
            if kill:
                chaos_result = r
        if chaos_result is not None:
            r = chaos_result
            takeover = f"{r.takeover:.1f} s" if r.takeover is not None else "none"
            done = f"{r.held_done:.1f} s" if r.held_done is not None else "none"
            print(
                f"chaos: the killed replica held {r.held} deliveries; a survivor's first post of "
                f"one came {takeover} after the kill, the last {done} after; "
                f"{r.lookups} platform lookups"
            )
    print("floor = posts ÷ 100/s; ratio = time from the slot to the last accepted post ÷ floor;")
    print("CPU ms/ch = the replicas' CPU (user + system, all threads) ÷ channels.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
