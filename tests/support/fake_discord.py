"""A loopback stand-in for Discord's REST API: interaction callbacks, follow-ups, channel messages,
channels, threads and forum posts.

It answers with `Content-Type: application/json` exactly (discord.py needs that), honours
`enforce_nonce` (a repeated nonce returns the first message), and can answer 429 with
`retry_after`, 403 Missing Access or 404 Unknown Channel.

Channels are text channels (type 0) unless `add_channel` says otherwise. A thread started from
a message gets the message's id and is a channel of its own (its messages are kept under its
id); a second start on the same message is refused with 160004, as Discord does. A forum
(type 15, media 16) takes posts only through `POST /channels/{id}/threads` with a `message`;
the post's starter message has the post's id. Thread names must be 1-100 characters; a
channel in `no_threads` refuses threads with 403 Missing Permissions (50013).
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
GUILD_ID = "444"
REQUIRE_TAG = 1 << 4  # a forum's flag: every post needs one of its tags
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
    scripted_threads: list[Response] = field(default_factory=list)  # for thread creation
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, threads too
    no_threads: set[str] = field(default_factory=set)  # channels where threads are refused
    gone: set[str] = field(default_factory=set)  # deleted channels and threads: 404
    thread_starts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (parent, body)
    _by_nonce: dict[str, dict[str, Any]] = field(default_factory=dict)
    _posted: dict[str, str] = field(default_factory=dict)  # message id → its channel
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

    def add_channel(self, channel_id: str, kind: int = 0, **extra: Any) -> dict[str, Any]:
        """A guild channel of that type (0 text, 5 announcement, 15 forum, 16 media, 11 thread)."""
        channel: dict[str, Any] = {
            "id": channel_id,
            "type": kind,
            "guild_id": GUILD_ID,
            "name": f"channel-{channel_id}",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "flags": 0,
            "default_auto_archive_duration": 1440,
            **extra,
        }
        if kind in (15, 16):
            channel.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None)
        self.channels[channel_id] = channel
        return channel

    def channel(self, channel_id: str) -> dict[str, Any]:
        return self.channels.get(channel_id) or self.add_channel(channel_id)

    def thread_of(self, parent_id: str) -> list[str]:
        """The threads (and forum posts) started in a channel, oldest first."""
        return [
            c["id"]
            for c in self.channels.values()
            if c.get("parent_id") == parent_id and c["type"] in (10, 11, 12)
        ]

    def posted_in(self, channel_id: str) -> list[dict[str, Any]]:
        """What a digest put in a channel: its own messages, then each thread's, in order."""
        bodies = list(self.channel_messages.get(channel_id, []))
        for thread in self.thread_of(channel_id):
            bodies += self.channel_messages.get(thread, [])
        return bodies

    def message(
        self, channel_id: str, body: dict[str, Any], message_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": message_id or self._id(),
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
        if m := re.fullmatch(r"/api/v10/channels/(\d+)/messages/(\d+)/threads", path):
            return self._start_thread(m.group(1), m.group(2), body)
        if m := re.fullmatch(r"/api/v10/channels/(\d+)/threads", path):
            return self._forum_post(m.group(1), body)
        if (m := re.fullmatch(r"/api/v10/channels/(\d+)", path)) and request.method == "GET":
            return Response(200, json.dumps(self.channel(m.group(1))).encode(), JSON)
        if m := re.fullmatch(r"/api/v10/guilds/(\d+)/threads/active", path):
            active = [
                c
                for c in self.channels.values()
                if c["type"] in (10, 11, 12) and c["guild_id"] == m.group(1)
            ]
            return Response(200, json.dumps({"threads": active, "members": []}).encode(), JSON)
        if m := re.fullmatch(r"/api/v10/channels/(\d+)/messages", path):
            if m.group(1) in self.gone or (
                m.group(1) in self._posted and m.group(1) not in self.channels
            ):  # a deleted channel or thread, or a message's id that names no channel
                return discord_error(404, 10003, "Unknown Channel")
            if self.channel(m.group(1))["type"] in (15, 16):
                return discord_error(400, 50008, "Cannot send messages in a non-text channel")
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
            self._posted[message["id"]] = m.group(1)
            if nonce:
                self._by_nonce[nonce] = message
            return Response(200, json.dumps(message).encode(), {**JSON, **self._bucket(m.group(1))})
        if path == "/api/v10/users/@me":
            return Response(200, json.dumps(BOT_USER).encode(), JSON)
        return Response(404, json.dumps({"message": "Unknown route", "code": 0}).encode(), JSON)

    def _thread_refused(self, parent: str, body: dict[str, Any]) -> Response | None:
        """What Discord checks before it makes a thread: the script, limits, rights, the name."""
        if self.scripted_threads:
            return self.scripted_threads.pop(0)
        if self.limits is not None and (limited := self._limit(f"{parent}/threads")):
            return limited
        if parent in self.no_threads:
            return discord_error(403, 50013, "Missing Permissions")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return discord_error(400, 50035, "Invalid Form Body (name: 1-100 characters)")
        return None

    def _thread(self, parent: dict[str, Any], thread_id: str, name: str) -> dict[str, Any]:
        thread: dict[str, Any] = {
            "id": thread_id,
            "type": 10 if parent["type"] == 5 else 11,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "name": name,
            "owner_id": BOT_USER["id"],
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2024-01-01T00:00:00+00:00",
                "locked": False,
                "create_timestamp": "2024-01-01T00:00:00+00:00",
            },
        }
        self.channels[thread_id] = thread
        return thread

    def _start_thread(self, parent_id: str, message_id: str, body: dict[str, Any]) -> Response:
        """A thread from a message: the thread takes the message's id."""
        parent = self.channel(parent_id)
        if refused := self._thread_refused(parent_id, body):
            return refused
        if parent["type"] not in (0, 5):
            return discord_error(400, 50024, "Cannot execute action on this channel type")
        if self._posted.get(message_id) != parent_id:
            return discord_error(404, 10008, "Unknown Message")
        if message_id in self.channels:
            return discord_error(400, 160004, "A thread has already been created for this message")
        self.thread_starts.append((parent_id, body))
        thread = self._thread(parent, message_id, body["name"])
        return Response(200, json.dumps(thread).encode(), JSON)

    def _forum_post(self, forum_id: str, body: dict[str, Any]) -> Response:
        """A forum (or media) post: a thread whose starter message has the thread's id."""
        forum = self.channel(forum_id)
        if refused := self._thread_refused(forum_id, body):
            return refused
        if forum["type"] not in (15, 16) or not isinstance(body.get("message"), dict):
            return discord_error(400, 50035, "Invalid Form Body (message is required)")
        if forum["flags"] & REQUIRE_TAG and not body.get("applied_tags"):
            return discord_error(400, 40067, "A tag is required to create a forum post")
        self.thread_starts.append((forum_id, body))
        thread_id = self._id()
        thread = self._thread(forum, thread_id, body["name"])
        starter = self.message(thread_id, body["message"], message_id=thread_id)
        self.channel_messages.setdefault(thread_id, []).append(body["message"])
        return Response(200, json.dumps({**thread, "message": starter}).encode(), JSON)

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
