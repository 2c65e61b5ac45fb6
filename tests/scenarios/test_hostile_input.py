"""Hostile input: bombs, binary, broken encodings, XML entities, huge feeds and pathological HTML end in clear errors."""

from __future__ import annotations

import asyncio
import resource
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from support.loopback import LoopbackServer, Response

from bot.errors import FetchError, InputError
from bot.ingest import parse_bytes
from bot.ingest.fetch import FetchOptions, fetch
from bot.ingest.netguard import AddressPolicy

ALLOW = AddressPolicy.from_setting("127.0.0.1/32")


def gzip_bomb(size: int, layers: int = 1) -> bytes:
    """Compress `size` zero bytes without ever holding them: streamed through a small buffer."""
    data = b""
    for layer in range(layers):
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        if layer == 0:
            chunk = b"\0" * (1 << 20)
            parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
        else:
            parts = [compressor.compress(data)]
        parts.append(compressor.flush())
        data = b"".join(parts)
    return data


@pytest.mark.parametrize("layers, header", [(1, "gzip"), (2, "gzip, gzip")])
def test_decompression_bombs_are_too_large_with_bounded_memory(layers: int, header: str) -> None:
    bomb = gzip_bomb(300 * 1024 * 1024, layers)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with LoopbackServer() as srv:
        srv.route(
            "/bomb", Response(200, bomb, {"Content-Encoding": header, "Content-Type": "text/html"})
        )
        with pytest.raises(FetchError, match="too large"):
            asyncio.run(fetch(f"{srv.url}/bomb", FetchOptions(policy=ALLOW)))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 64


@pytest.mark.parametrize(
    "data, match",
    [
        (b"%PDF-1.4\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"<html>\0\0\0<p>text</p>", "binary"),
    ],
)
def test_binary_inputs_are_typed_errors(data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_bytes(data, "x")


def test_invalid_utf8_is_read_not_crashed() -> None:
    data = "Caf\xe9 owners met on Monday. They agreed on new opening hours for the summer.".encode(
        "latin-1"
    )
    [doc] = parse_bytes(data + b" \xff\xfe broken bytes here.", "x")
    assert "owners met on Monday" in " ".join(b.text for b in doc.blocks)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>
<description>&lol9; The council met on Monday to agree the budget for the year.</description></item>
</channel></rss>"""


def xxe(canary_url: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xfile SYSTEM "file:///etc/passwd"><!ENTITY xhttp SYSTEM "{canary_url}/entity">
<!ENTITY % pe SYSTEM "{canary_url}/param"> %pe;]>
<rss version="2.0"><channel><title>t</title><item><title>Item &xfile;</title>
<description>Body &xhttp; The council met on Monday to agree the budget for the year.</description>
</item></channel></rss>""".encode()


def quadratic_blowup() -> bytes:
    entity = "A" * 50_000
    refs = "&a;" * 20_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{entity}">]><rss version="2.0"><channel>'
        f"<item><title>t</title><description>{refs}</description></item></channel></rss>"
    ).encode()


def test_xml_bombs_and_external_entities_are_not_expanded() -> None:
    with LoopbackServer() as canary:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for data in (BILLION_LAUGHS, quadratic_blowup(), xxe(canary.url)):
            try:
                docs = parse_bytes(data, "feed")
            except InputError:
                continue
            text = " ".join(b.text for d in docs for b in d.blocks) + " ".join(
                d.title for d in docs
            )
            assert "root:" not in text and "lollollol" not in text and len(text) < 100_000
        assert canary.requests == []
        assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 64


def test_huge_and_truncated_feeds() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    items = "".join(
        f"<item><guid>g{n}</guid><title>T{n}</title><pubDate>{(now - timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description>Item {n} says the council met and agreed a plan worth {n} dollars.</description></item>"
        for n in range(10_000)
    )
    data = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    docs = parse_bytes(data, "big")
    assert len(docs) == 50 and docs[0].title == "T0"
    truncated = data[: len(data) // 3]
    try:
        partial = parse_bytes(truncated, "cut")
        assert 0 < len(partial) <= 50
    except InputError as exc:
        assert "feed" in exc.message.lower()


@pytest.mark.parametrize(
    "page",
    [
        "<html><body>" + "<div>" * 100_000 + "text" + "</div>" * 100_000 + "</body></html>",
        "<html><body><p>" + "x" * 10_000_000 + "</p></body></html>",
        "<html><body>"
        + "<span>" * 300
        + "Deep text that is a sentence. " * 20
        + "</span>" * 300
        + "</body></html>",
    ],
)
def test_pathological_html_is_a_clear_no_text_error(page: str) -> None:
    try:
        docs = parse_bytes(page.encode(), "page.html")
    except InputError as exc:
        assert "No article text" in exc.message or "limit" in exc.message
        return
    assert all(len(b.text) < 10_000_001 for d in docs for b in d.blocks)
