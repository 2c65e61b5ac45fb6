"""Fetching URLs without becoming a proxy into the host's network.

Every hop is resolved, checked against the address policy and then connected to
by IP (the Host header and TLS SNI keep the name), so a DNS answer that changes
between check and connect cannot smuggle a private address in. Bodies are read
raw and decompressed here with a hard limit, because a size cap on decoded
chunks does not hold against "Content-Encoding: gzip, gzip" bombs.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from bot.errors import FetchError
from bot.i18n import _
from bot.ingest.netguard import AddressPolicy, IPAddress, parse_host_address
from bot.ingest.politeness import Politeness, RobotsAnswer

USER_AGENT = (
    "newsdigest/0.1 (+https://github.com/newsdigest/newsdigest; self-hosted news digest bot)"
)
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

_TEXTUAL_TYPES = (
    "text/",
    "application/xml",
    "application/xhtml",
    "application/rss",
    "application/atom",
    "application/rdf",
    "application/feed",
    "application/json",
    "application/x-rss",
)


@dataclass(frozen=True)
class FetchOptions:
    max_bytes: int = 5 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_redirects: int = 5
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    proxy: str | None = None
    user_agent: str = USER_AGENT
    politeness: Politeness | None = None  # shared per-host pacing; None for one-off CLI fetches


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_language: str | None = None  # the server's Content-Language header

    @property
    def not_modified(self) -> bool:
        return self.status == 304


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(_("Could not resolve {host}.").format(host=host)) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def fetch(
    url: str,
    settings: FetchOptions | None = None,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    resolver: Resolver = system_resolver,
) -> FetchResult:
    """GET a URL within the policy, size and time limits; raise FetchError with a plain reason."""
    settings = settings or FetchOptions()
    try:
        async with asyncio.timeout(settings.total_timeout):
            return await _fetch(url, settings, etag, last_modified, resolver)
    except TimeoutError as exc:
        raise FetchError(
            _("{host} took longer than {total_timeout:g}s; gave up.").format(
                host=_host(url), total_timeout=settings.total_timeout
            )
        ) from exc


async def _fetch(
    url: str,
    settings: FetchOptions,
    etag: str | None,
    last_modified: str | None,
    resolver: Resolver,
) -> FetchResult:
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        proxy=settings.proxy,
        verify=_tls_context(),
    ) as client:
        current = url
        for _hop in range(settings.max_redirects + 1):
            target, host_header, sni = await _pinned_target(current, settings, resolver)
            request = client.build_request(
                "GET",
                target,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": sni} if sni else {},
            )
            async with _turn(settings, current):
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise FetchError(
                        _("Could not reach {host}: {error}.").format(
                            host=_host(current), error=type(exc).__name__
                        )
                    ) from exc
                try:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            raise FetchError(
                                _("{host} redirected without a location.").format(
                                    host=_host(current)
                                )
                            )
                        current = urljoin(current, location)
                        continue
                    return await _read(response, current, settings)
                finally:
                    await response.aclose()
        raise FetchError(
            _("Too many redirects (more than {max_redirects}) from {host}.").format(
                max_redirects=settings.max_redirects, host=_host(url)
            )
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context for every fetch: loading the CA bundle costs ~15 ms a time."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _turn(settings: FetchOptions, url: str) -> AbstractAsyncContextManager[None]:
    return settings.politeness.turn(url) if settings.politeness else nullcontext()


async def allowed_by_robots(url: str, settings: FetchOptions) -> bool:
    """Whether robots.txt lets us fetch `url`; always True without a shared Politeness."""
    if settings.politeness is None:
        return True

    async def fetch_robots(robots: str) -> RobotsAnswer:
        small = replace(
            settings, max_bytes=512 * 1024, total_timeout=min(settings.total_timeout, 10)
        )
        try:
            result = await fetch(robots, small)
        except FetchError as exc:
            return RobotsAnswer(exc.status or 0)
        return RobotsAnswer(result.status, result.body)

    return await settings.politeness.allowed(url, fetch_robots)


async def _pinned_target(
    url: str, settings: FetchOptions, resolver: Resolver
) -> tuple[str, str, str | None]:
    """Check a URL and return (URL with the checked IP, Host header, SNI name)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(
            _("Only http and https links can be fetched, not '{value}'.").format(
                value=parts.scheme or url
            )
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(_("That link has no host name."))
    if parts.username or parts.password:
        raise FetchError(_("Links with a user name or password are not fetched."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host_header = parts.netloc.rsplit("@", 1)[-1]
    if settings.proxy:
        return url, host_header, None  # the proxy resolves and is trusted by explicit configuration
    literal = parse_host_address(host)
    addresses = [literal] if literal is not None else await resolver(host, port)
    if not addresses:
        raise FetchError(_("Could not resolve {host}.").format(host=host))
    reason = settings.policy.check(host, addresses)
    if reason:
        raise FetchError(_("Refused to fetch {url}: {reason}.").format(url=url, reason=reason))
    chosen = addresses[0]
    ip_text = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{ip_text}:{parts.port}" if parts.port else ip_text
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    sni = host if parts.scheme == "https" and literal is None else None
    return pinned, host_header, sni


async def _read(response: httpx.Response, url: str, settings: FetchOptions) -> FetchResult:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    meta = {
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
        "content_language": response.headers.get("content-language"),
    }
    if response.status_code == 304:
        return FetchResult(url, 304, content_type, b"", **meta)
    if response.status_code >= 400:
        raise FetchError(
            _("{host} answered HTTP {status_code}.").format(
                host=_host(url), status_code=response.status_code
            ),
            response.status_code,
            _retry_after(response.headers.get("retry-after")),
        )
    if content_type and not content_type.startswith(_TEXTUAL_TYPES):
        raise FetchError(
            _("{host} sent {content_type}, not a web page or feed.").format(
                host=_host(url), content_type=content_type
            )
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_bytes:
        raise FetchError(
            _("{host} sent {size}; the limit is {limit}.").format(
                host=_host(url), size=_mb(int(declared)), limit=_mb(settings.max_bytes)
            )
        )
    raw = bytearray()
    async for chunk in response.aiter_raw():
        raw.extend(chunk)
        if len(raw) > settings.max_bytes:
            raise FetchError(
                _("{host} sent more than {size}; stopped reading.").format(
                    host=_host(url), size=_mb(settings.max_bytes)
                )
            )
    body = decode_content(
        bytes(raw), response.headers.get("content-encoding", ""), settings.max_bytes
    )
    return FetchResult(url, response.status_code, content_type, body, **meta)


def decode_content(raw: bytes, encoding_header: str, limit: int) -> bytes:
    """Undo Content-Encoding layers (last applied first), never producing more than `limit` bytes."""
    body = raw
    for coding in reversed([c.strip().lower() for c in encoding_header.split(",") if c.strip()]):
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            wbits = 16 + zlib.MAX_WBITS
        elif coding == "deflate":
            wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            raise FetchError(_("Unsupported content encoding '{coding}'.").format(coding=coding))
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise FetchError(_("The response was not valid compressed data.")) from exc
        if len(out) > limit or inflater.unconsumed_tail:
            raise FetchError(
                _("The response decompresses to more than {size}; too large.").format(
                    size=_mb(limit)
                )
            )
        body = out
    return body


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
