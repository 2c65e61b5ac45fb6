"""A loopback stand-in for Discord's REST API: interaction callbacks, follow-ups, channel messages.

It answers with `Content-Type: application/json` exactly (discord.py needs that), honours
`enforce_nonce` (a repeated nonce returns the first message), and can answer 429 with
`retry_after`, 403 Missing Access or 404 Unknown Channel.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from support.loopback import LoopbackServer, RecordedRequest, Response
from support.platform_limits import RateLimits

JSON = {"Content-Type": "application/json"}
APP_ID = 900000000000000001
BOT_USER = {
    "id": "900000000000000002",
    "username": "newsdigest",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
    "global_name": None,
}


@dataclass
class FakeDiscord:
    server: LoopbackServer
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    channel_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    scripted: list[Response] = field(default_factory=list)  # for channel message posts
    _by_nonce: dict[str, dict[str, Any]] = field(default_factory=dict)
    _next_id: int = 1000
    limits: RateLimits | None = None  # per-channel buckets and the global limit, with headers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.fallback = self._handle

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/v10"

    def _id(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)

    def message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self._id(),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": "2024-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "nonce": body.get("nonce"),
        }

    def _handle(self, request: RecordedRequest) -> Response:
        path = request.path.split("?")[0]
        self.requests.append((request.method, path))
        body = json.loads(request.body) if request.body and request.body.startswith(b"{") else {}
        if body == {} and request.body and b"payload_json" in request.body:
            match = re.search(
                rb'name="payload_json"\r\n(?:Content-Type: application/json\r\n)?\r\n(.*?)\r\n--',
                request.body,
                re.S,
            )
            body = json.loads(match.group(1)) if match else {}
        if m := re.fullmatch(r"/api/v10/interactions/(\d+)/([^/]+)/callback", path):
            self.callbacks.append(body)
            return Response(
                200, json.dumps({"interaction": {"id": m.group(1), "type": 2}}).encode(), JSON
            )
        if m := re.fullmatch(r"/api/v10/webhooks/(\d+)/([^/]+)", path):
            self.followups.append(body)
            return Response(200, json.dumps(self.message("1", body)).encode(), JSON)
        if re.fullmatch(r"/api/v10/webhooks/(\d+)/([^/]+)/messages/@original", path):
            self.followups.append(body)
            return Response(200, json.dumps(self.message("1", body)).encode(), JSON)
        if m := re.fullmatch(r"/api/v10/channels/(\d+)/messages", path):
            if self.scripted:
                return self.scripted.pop(0)
            if self.limits is not None:
                limited = self._limit(m.group(1))
                if limited is not None:
                    return limited
            nonce = body.get("nonce")
            if nonce and body.get("enforce_nonce") and nonce in self._by_nonce:
                return Response(200, json.dumps(self._by_nonce[nonce]).encode(), JSON)
            message = self.message(m.group(1), body)
            self.channel_messages.setdefault(m.group(1), []).append(body)
            if nonce:
                self._by_nonce[nonce] = message
            return Response(200, json.dumps(message).encode(), {**JSON, **self._bucket(m.group(1))})
        if path == "/api/v10/users/@me":
            return Response(200, json.dumps(BOT_USER).encode(), JSON)
        return Response(404, json.dumps({"message": "Unknown route", "code": 0}).encode(), JSON)

    def _limit(self, channel: str) -> Response | None:
        assert self.limits is not None
        if self.limits.latency:
            time.sleep(self.limits.latency)
        wait, is_global = self.limits.admit(channel)
        if wait is None:
            return None
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(wait, 3),
            "global": is_global,
        }
        headers = {**JSON, "Via": "1.1 google", "Retry-After": str(max(1, math.ceil(wait)))}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
            headers["X-RateLimit-Scope"] = "global"
        else:
            headers.update(self._bucket(channel, remaining=0, reset_after=wait))
        return Response(429, json.dumps(body).encode(), headers)

    def _bucket(
        self, channel: str, remaining: int | None = None, reset_after: float = 1.0
    ) -> dict[str, str]:
        if self.limits is None:
            return {}
        left = self.limits.remaining(channel) if remaining is None else remaining
        return {
            "X-RateLimit-Bucket": f"messages-{channel}",
            "X-RateLimit-Limit": str(self.limits.per_channel_burst),
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        }


def discord_error(
    status: int,
    code: int,
    message: str,
    headers: dict[str, str] | None = None,
    retry_after: float | None = None,
) -> Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if retry_after is not None:
        body["retry_after"] = retry_after
        body["global"] = False
    return Response(status, json.dumps(body).encode(), {**JSON, **(headers or {})})


def interaction_payload(
    options: list[dict[str, Any]],
    *,
    kind: int = 2,
    subcommand: str = "sections",
    permissions: str = "0",
    guild: bool = True,
    interaction_id: str = "700",
) -> dict[str, Any]:
    """A slash-command interaction exactly as Discord sends it (type 2; 4 for autocomplete)."""
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"tok{interaction_id}",
        "version": 1,
        "channel_id": "555",
        "locale": "en-US",
        "app_permissions": "2147483647",
        "entitlements": [],
        "authorizing_integration_owners": {"0": "1"},
        "context": 0,
        "attachment_size_limit": 8388608,
        "channel": {
            "id": "555",
            "type": 0,
            "guild_id": "444",
            "name": "news",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
        "data": {
            "id": "800",
            "name": "digest",
            "type": 1,
            "options": [{"type": 1, "name": subcommand, "options": options}],
        },
    }
    member_user = {
        "id": "111",
        "username": "alice",
        "discriminator": "0",
        "avatar": None,
        "global_name": None,
    }
    if guild:
        payload["guild_id"] = "444"
        payload["guild_locale"] = "en-US"
        payload["member"] = {
            "user": member_user,
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": permissions,
            "avatar": None,
            "nick": None,
        }
    else:
        payload["user"] = member_user
        payload["context"] = 1
    return payload
