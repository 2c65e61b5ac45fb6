"""Politeness: robots.txt answers read as RFC 9309 says."""

from __future__ import annotations


def test_robots_txt_answers_follow_rfc_9309() -> None:
    from bot.ingest.politeness import RobotsAnswer, _interpret

    parser, verdict = _interpret(RobotsAnswer(200, b"User-agent: newsdigest\nDisallow: /private\n"))
    assert parser is not None and verdict is None
    assert not parser.can_fetch("newsdigest", "https://x.example/private/1")
    assert parser.can_fetch("newsdigest", "https://x.example/news/1")
    assert _interpret(RobotsAnswer(404)) == (None, True)  # no robots.txt: allowed
    assert _interpret(RobotsAnswer(0)) == (None, True)  # unreachable: allowed
    assert _interpret(RobotsAnswer(401)) == (None, False)  # 401/403: disallowed
    assert _interpret(RobotsAnswer(403)) == (None, False)
    assert _interpret(RobotsAnswer(503)) == (None, False)  # server error: disallowed for now
