"""With an API URL configured, the default (unsharded) discord.py client talks only to that server.

A loopback Discord serves REST (`/users/@me`, `/gateway/bot`) and a gateway WebSocket
(HELLO → IDENTIFY → READY) with aiohttp; the adapter's start-up must reach READY there.
Were it to dial discord.py's built-in gateway it could not connect at all (no network).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import discord
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket
from support.fake_discord import BOT_USER
from support.loopback import free_port

from adapters.discord.client import make_client, use_configured_gateway

TOKEN = "loopback-only-token"


def as_json(data: dict[str, Any]) -> web.Response:
    """discord.py takes a body as JSON only when the content type is exactly this."""
    return web.Response(
        body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


class LoopbackGateway:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.identified: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.app = web.Application(middlewares=[self._record])
        self.app.router.add_get("/api/v10/users/@me", self._me)
        self.app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        self.app.router.add_get("/api/v10/gateway/bot", self._gateway_bot)
        self.app.router.add_get("/gateway", self._socket)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.paths.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    async def _me(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bot {TOKEN}"
        return as_json(BOT_USER)

    async def _application(self, _request: web.Request) -> web.Response:
        return as_json(
            {
                "id": "900000000000000001",
                "name": "newsdigest",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": BOT_USER,
                "verify_key": "00",
                "flags": 0,
            }
        )

    async def _gateway_bot(self, _request: web.Request) -> web.Response:
        return as_json(
            {
                "url": f"ws://127.0.0.1:{self.port}/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 2:
                self.identified.append(payload["d"])
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "loopback-session",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                    "application": {"id": "900000000000000001", "flags": 0},
                }
                if "shard" in payload["d"]:  # as Discord does: the shard this session is
                    ready["shard"] = payload["d"]["shard"]
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
        return ws


@contextlib.asynccontextmanager
async def loopback_gateway() -> AsyncIterator[tuple[LoopbackGateway, str]]:
    """The loopback Discord running, discord.py's REST base pointed at it; both undone after."""
    original_base, original_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    fake = LoopbackGateway()
    runner = web.AppRunner(fake.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", fake.port).start()
    api = f"{fake.base}/api/v10"
    discord.http.Route.BASE = api
    try:
        yield fake, api
    finally:
        await runner.cleanup()
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = original_base, original_gateway


def test_the_default_client_gets_its_gateway_from_the_configured_api() -> None:
    async def main() -> LoopbackGateway:
        async with loopback_gateway() as (fake, api):
            await connect_default_client(api)
        return fake

    fake = asyncio.run(main())
    assert [d["token"] for d in fake.identified] == [TOKEN]
    assert "/api/v10/gateway/bot" in fake.paths and "/gateway" in fake.paths


async def connect_default_client(api: str) -> None:
    client = make_client(shards=False)
    assert type(client) is discord.Client  # the default, unsharded client
    await run_until_ready([client], api)
    assert client.user is not None and client.user.name == "newsdigest"


async def run_until_ready(clients: list[discord.Client], api: str) -> None:
    """Log each client in, take its gateway from the configured API, wait until all are READY."""
    tasks = []
    try:
        for client in clients:
            await client.login(TOKEN)
            await use_configured_gateway(client, api)
            tasks.append(asyncio.create_task(client.connect(reconnect=False)))
        for client in clients:
            await asyncio.wait_for(client.wait_until_ready(), timeout=20)
    finally:
        for client in clients:
            await client.close()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_replicas_each_identify_with_their_own_shards() -> None:
    """Two replicas configured as shards 0 and 1 of 2: each opens only its shard's gateway
    session, so Discord hands each guild's interactions to the replica that holds it."""

    async def main() -> LoopbackGateway:
        async with loopback_gateway() as (fake, api):
            await run_until_ready([make_client(False, 2, [0]), make_client(False, 2, [1])], api)
        return fake

    fake = asyncio.run(main())
    assert sorted(tuple(d["shard"]) for d in fake.identified) == [(0, 2), (1, 2)]
