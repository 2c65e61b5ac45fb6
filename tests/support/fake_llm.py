"""An OpenAI-compatible chat completions endpoint on loopback whose behaviour each test picks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.loopback import LoopbackServer, RecordedRequest, Response

Answer = Callable[[dict[str, Any]], Response]


def completion(content: str) -> Response:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def article_from_request(request: dict[str, Any]) -> dict[str, Any]:
    user = request["messages"][-1]["content"]
    start, end = user.index("{"), user.rindex("}") + 1
    return json.loads(user[start:end])


def faithful_reply(request: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved model answers: the first sentences, cited correctly."""
    article = article_from_request(request)
    sections = {}
    headings = {}
    all_sentences = []
    for section in article["sections"]:
        sentences = section["sentences"]
        all_sentences += sentences
        sections[section["id"]] = [
            {"text": s["text"], "sentence_ids": [s["id"]]} for s in sentences[:2]
        ]
        if not section["titled"]:
            headings[section["id"]] = "A model heading"
    overview = [{"text": s["text"], "sentence_ids": [s["id"]]} for s in all_sentences[:3]]
    return {"overview": overview, "sections": sections, "headings": headings}


class FakeLLM:
    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.answer: Answer = lambda req: completion(json.dumps(faithful_reply(req)))
        server.route("/v1/chat/completions", self._handle)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [
            json.loads(r.body) for r in self.server.requests if r.path.endswith("/chat/completions")
        ]

    def _handle(self, request: RecordedRequest) -> Response:
        return self.answer(json.loads(request.body))
