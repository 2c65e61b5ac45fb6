"""Loopback servers for the benchmarks, run in a process of their own so that the bot's CPU
figures are the bot's: rate-limited Slack and Discord (the test suite's fakes with the
platforms' published limits) and a farm of slow news sites on 127.0.0.x addresses.

    python -m bench.loopback_servers slack|discord            → prints {"url": …}
    python -m bench.loopback_servers sites HOSTS FEEDS LATENCY → prints {"feeds": [...], "sites": [...]}

Each serves GET /_stats (JSON) and stops when its standard input closes.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.fake_discord import FakeDiscord
from support.fake_slack import FakeSlack
from support.loopback import LoopbackServer, Response
from support.loopback_site import Site
from support.platform_limits import discord_limits, slack_limits

JSON = {"Content-Type": "application/json"}


def slack() -> LoopbackServer:
    server = LoopbackServer()
    fake = FakeSlack(server, limits=slack_limits(latency=0.05))

    def stats(_request: object) -> Response:
        keys = Counter(
            m["metadata"]["event_payload"]["key"]
            for messages in list(fake.messages.values())
            for m in messages
        )
        assert fake.limits is not None
        return Response(
            200,
            json.dumps(
                {
                    "accepted": fake.limits.accepted,
                    "rejected": fake.limits.rejected,
                    "channels": len(fake.messages),
                    "duplicates": sum(n - 1 for n in keys.values()),
                    "tops": sum(1 for k in keys if k.endswith("p0")),
                    "lookups": len(fake.posts("conversations.history"))
                    + len(fake.posts("conversations.replies")),
                    "posted_at": list(fake.posted_at),
                }
            ).encode(),
            JSON,
        )

    server.route("/_stats", stats)
    server.__enter__()
    print(json.dumps({"url": fake.api_url}), flush=True)
    return server


def discord() -> LoopbackServer:
    server = LoopbackServer()
    fake = FakeDiscord(server, limits=discord_limits(latency=0.05))
    fallback = server.fallback

    def route(request):  # type: ignore[no-untyped-def]
        if request.path == "/_stats":
            nonces = Counter(
                b.get("nonce") for msgs in list(fake.channel_messages.values()) for b in msgs
            )
            assert fake.limits is not None
            threads = {c["id"] for c in list(fake.channels.values()) if c["type"] in (10, 11, 12)}
            body = {
                "accepted": fake.limits.accepted,
                "rejected": fake.limits.rejected,
                "rejected_global": fake.limits.rejected_global,
                # channels that got a digest (its header); its articles went in its thread
                "channels": sum(1 for c in list(fake.channel_messages) if c not in threads),
                "threads": len(threads),
                "messages": sum(len(m) for m in list(fake.channel_messages.values())),
                "duplicates": sum(n - 1 for n in nonces.values()),
            }
            return Response(200, json.dumps(body).encode(), JSON)
        return fallback(request)  # type: ignore[misc]

    server.fallback = route
    server.__enter__()
    print(json.dumps({"url": fake.api_url}), flush=True)
    return server


def sites(hosts: int, feeds_per_host: int, latency: float) -> list[Site]:
    running = []
    feeds = []
    for h in range(hosts):
        site = Site(latency=latency, host=f"127.0.0.{h + 2}")
        site.__enter__()
        for f in range(feeds_per_host):
            base = h * 10_000 + f * 100
            feeds.append(
                site.add_feed(
                    f"/feed{f}.xml", [(base + i, f"/articles/{base + i}.html") for i in range(3)]
                )
            )
        running.append(site)
    print(json.dumps({"feeds": feeds, "sites": [s.url for s in running]}), flush=True)
    return running


def main() -> None:
    kind = sys.argv[1]
    if kind == "slack":
        slack()
    elif kind == "discord":
        discord()
    else:
        sites(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    sys.stdin.read()  # until the benchmark closes our input


if __name__ == "__main__":
    main()
