"""A loopback stand-in for Slack's Web API and response_urls, speaking the real wire format.

It records every call and can answer 429 with Retry-After, 500, or `ok: false` errors.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from support.loopback import LoopbackServer, RecordedRequest, Response
from support.platform_limits import RateLimits


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float


@dataclass
class FakeSlack:
    server: LoopbackServer
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # what response_urls received
    messages: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # channel → posted messages
    scripted: dict[str, list[Response]] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    limits: RateLimits | None = None  # Slack's posting limits, enforced with 429 + Retry-After
    posted_at: list[tuple[str, float]] = field(default_factory=list)  # (part key, monotonic)
    _ts: int = 0
    _ts_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for method in (
            "auth.test",
            "chat.postMessage",
            "conversations.history",
            "conversations.replies",
            "users.info",
        ):
            self.server.route(f"/api/{method}", lambda req, m=method: self._api(m, req))
        for n in range(20):
            self.server.route(f"/response/{n}", self._response_url)

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    def response_url(self, n: int = 1) -> str:
        return f"{self.server.url}/response/{n}"

    def script(self, method: str, *responses: Response) -> None:
        self.scripted.setdefault(method, []).extend(responses)

    def posts(self, method: str = "chat.postMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _args(self, request: RecordedRequest) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if "?" in request.path:
            args.update({k: v[0] for k, v in parse_qs(request.path.split("?", 1)[1]).items()})
        if request.body:
            if request.headers.get("Content-Type", "").startswith("application/json"):
                args.update(json.loads(request.body))
            else:
                args.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
        return args

    def _api(self, method: str, request: RecordedRequest) -> Response:
        args = self._args(request)
        self.calls.append(Call(method, args, time.monotonic()))
        if self.scripted.get(method):
            return self.scripted[method].pop(0)
        if method == "auth.test":
            return ok({"user": "newsdigest", "team": "Test", "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "chat.postMessage" and self.limits is not None:
            if self.limits.latency:
                time.sleep(self.limits.latency)
            wait, _global = self.limits.admit(str(args["channel"]))
            if wait is not None:
                return slack_error(
                    "ratelimited", 429, {"Retry-After": str(max(1, math.ceil(wait)))}
                )
        if method == "chat.postMessage":
            channel = str(args["channel"])
            with self._ts_lock:
                self._ts += 1
                ts = f"{1700000000 + self._ts}.000100"
            message = {
                "ts": ts,
                "text": args.get("text"),
                "blocks": args.get("blocks"),
                "thread_ts": args.get("thread_ts"),
                "metadata": args.get("metadata"),
            }
            self.messages.setdefault(channel, []).append(message)
            key = ((args.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key:  # when each part was accepted, for benchmarks timing a rush
                self.posted_at.append((str(key), time.monotonic()))
            return ok({"channel": channel, "ts": ts, "message": message})
        if method in ("conversations.history", "conversations.replies"):
            channel = str(args["channel"])
            found = self.messages.get(channel, [])
            if method == "conversations.replies":
                found = [
                    m for m in found if m["ts"] == args["ts"] or m.get("thread_ts") == args["ts"]
                ]
            return ok({"messages": list(reversed(found)), "has_more": False})
        if method == "users.info":
            user = str(args["user"])
            return ok({"user": {"id": user, "is_admin": user in self.admins, "is_owner": False}})
        return ok({})

    def _response_url(self, request: RecordedRequest) -> Response:
        self.responses.append(json.loads(request.body))
        return Response(200, b"ok", {"Content-Type": "text/plain"})


def ok(data: dict[str, Any]) -> Response:
    return Response(
        200, json.dumps({"ok": True, **data}).encode(), {"Content-Type": "application/json"}
    )


def slack_error(error: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        json.dumps({"ok": False, "error": error}).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )
