"""Hostile URLs (SSRF): private, disguised and redirected addresses are refused before connecting."""

from __future__ import annotations

import ast
import asyncio
import ipaddress

import pytest
from support.hostile_addresses import REFUSED
from support.loopback import LoopbackServer, Response
from support.paths import ROOT

from bot.errors import FetchError
from bot.ingest.fetch import FetchOptions, fetch
from bot.ingest.netguard import AddressPolicy, IPAddress

ALLOW = AddressPolicy.from_setting("127.0.0.1/32")


@pytest.mark.parametrize("host", [f"[{h}]" if ":" in h else h for h in REFUSED])
def test_private_urls_are_refused_before_connecting(host: str) -> None:
    async def resolver(name: str, port: int) -> list[IPAddress]:
        raise AssertionError("literal addresses need no DNS")

    with pytest.raises(FetchError, match="private or reserved"):
        asyncio.run(fetch(f"http://{host}/latest/meta-data", FetchOptions(), resolver=resolver))


def test_any_private_answer_in_dns_refuses_the_host() -> None:
    async def resolver(name: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(FetchError, match=r"127\.0\.0\.1"):
        asyncio.run(fetch("http://mixed.example/", FetchOptions(), resolver=resolver))


def test_the_connection_goes_to_the_checked_address() -> None:
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding resolver: checked, then changed
    calls = []

    async def resolver(name: str, port: int) -> list[IPAddress]:
        calls.append(name)
        return [ipaddress.ip_address(next(answers))]

    with LoopbackServer() as srv:
        srv.route("/", Response(200, b"hello", {"Content-Type": "text/plain"}))
        url = f"http://rebind.example:{srv.port}/"
        result = asyncio.run(fetch(url, FetchOptions(policy=ALLOW), resolver=resolver))
        assert result.body == b"hello" and calls == ["rebind.example"]
        assert srv.requests[0].headers["Host"] == f"rebind.example:{srv.port}"


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "http://127.0.0.2/"]
)
def test_redirects_to_forbidden_places_are_refused_at_that_hop(target: str) -> None:
    with LoopbackServer() as srv:
        srv.route("/r", Response(301, b"", {"Location": target}))
        with pytest.raises(FetchError, match=r"Only http and https|private or reserved"):
            asyncio.run(fetch(f"{srv.url}/r", FetchOptions(policy=ALLOW)))


def test_parsers_never_get_a_url_or_file_name() -> None:
    """feedparser fetches or opens a str it is given; trafilatura.fetch_url fetches: neither may see one."""
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("fetch_url", "fetch_response"):
                pytest.fail(f"{path}: trafilatura.{node.attr} bypasses the fetch guard")
            is_feedparser_parse = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "feedparser"
            )
            if is_feedparser_parse:
                assert path.name == "feed.py", (
                    f"{path}: feedparser.parse outside the guarded module"
                )
    with pytest.raises(TypeError):
        from bot.ingest.feed import parse_feed

        parse_feed("/etc/passwd", "x")  # type: ignore[arg-type]
