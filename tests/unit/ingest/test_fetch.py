"""Fetching over real HTTP against a loopback server; the guard is exercised, not bypassed."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
from collections.abc import Iterator

import pytest
from support.loopback import LoopbackServer, Response

from bot.errors import FetchError
from bot.ingest.fetch import FetchOptions, fetch
from bot.ingest.netguard import AddressPolicy, IPAddress

ALLOW_LOOPBACK = AddressPolicy.from_setting("127.0.0.1/32")


def run(url: str, **settings: object) -> object:
    return asyncio.run(fetch(url, FetchOptions(**settings)))  # type: ignore[arg-type]


@pytest.fixture()
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def test_loopback_is_refused_without_allow_list(server: LoopbackServer) -> None:
    server.route("/a", Response(200, b"hello", {"Content-Type": "text/plain"}))
    with pytest.raises(FetchError, match="private or reserved"):
        run(f"{server.url}/a")
    assert server.requests == []


def test_allow_list_admits_test_server(server: LoopbackServer) -> None:
    server.route("/a", Response(200, b"hello", {"Content-Type": "text/html", "ETag": '"v1"'}))
    result = run(f"{server.url}/a", policy=ALLOW_LOOPBACK)
    assert result.body == b"hello" and result.etag == '"v1"'  # type: ignore[attr-defined]
    assert "newsdigest" in server.requests[0].headers["User-Agent"]


def test_redirect_to_private_address_is_refused_at_that_hop() -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    with LoopbackServer() as srv:
        srv.route(
            "/start", Response(302, b"", {"Location": "http://169.254.169.254/latest/meta-data"})
        )
        with pytest.raises(FetchError, match=r"169\.254\.169\.254"):
            asyncio.run(fetch(f"{srv.url}/start", FetchOptions(policy=ALLOW_LOOPBACK)))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "data:text/plain,hi"]
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="Only http and https"):
        run(url)


def test_too_many_redirects(server: LoopbackServer) -> None:
    for i in range(7):
        server.route(f"/r{i}", Response(302, b"", {"Location": f"/r{i + 1}"}))
    with pytest.raises(FetchError, match="Too many redirects"):
        run(f"{server.url}/r0", policy=ALLOW_LOOPBACK)


def test_declared_huge_body_is_refused_unread(server: LoopbackServer) -> None:
    server.route(
        "/big",
        Response(200, b"x" * 10, {"Content-Length": str(2 * 1024**3), "Content-Type": "text/html"}),
    )
    with pytest.raises(FetchError, match="limit"):
        run(f"{server.url}/big", policy=ALLOW_LOOPBACK)


def test_endless_body_is_cut_at_the_cap(server: LoopbackServer) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):
            yield b"a" * 65536

    server.route("/endless", lambda req: Response(200, endless(), {"Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="more than"):
        run(f"{server.url}/endless", policy=ALLOW_LOOPBACK, max_bytes=1024 * 1024)


def test_double_gzip_bomb_is_too_large(server: LoopbackServer) -> None:
    bomb = gzip.compress(gzip.compress(b"\0" * (50 * 1024 * 1024)))
    server.route(
        "/bomb",
        Response(200, bomb, {"Content-Encoding": "gzip, gzip", "Content-Type": "text/html"}),
    )
    with pytest.raises(FetchError, match="too large"):
        run(f"{server.url}/bomb", policy=ALLOW_LOOPBACK, max_bytes=1024 * 1024)


def test_gzip_body_is_decoded(server: LoopbackServer) -> None:
    server.route(
        "/gz",
        Response(
            200,
            gzip.compress(b"<p>hi</p>"),
            {"Content-Encoding": "gzip", "Content-Type": "text/html"},
        ),
    )
    assert run(f"{server.url}/gz", policy=ALLOW_LOOPBACK).body == b"<p>hi</p>"  # type: ignore[attr-defined]


def test_drip_feed_hits_the_total_deadline(server: LoopbackServer) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.2)
            yield b"a"

    server.route("/drip", lambda req: Response(200, drip(), {"Content-Type": "text/html"}))
    start = time.monotonic()
    with pytest.raises(FetchError, match="longer than"):
        run(f"{server.url}/drip", policy=ALLOW_LOOPBACK, total_timeout=1.0, read_timeout=5.0)
    assert time.monotonic() - start < 5


def test_binary_content_type_is_refused(server: LoopbackServer) -> None:
    server.route("/img", Response(200, b"\x89PNG....", {"Content-Type": "image/png"}))
    with pytest.raises(FetchError, match="image/png"):
        run(f"{server.url}/img", policy=ALLOW_LOOPBACK)


def test_proxy_environment_is_ignored(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    server.route("/a", Response(200, b"direct", {"Content-Type": "text/plain"}))
    assert run(f"{server.url}/a", policy=ALLOW_LOOPBACK).body == b"direct"  # type: ignore[attr-defined]
