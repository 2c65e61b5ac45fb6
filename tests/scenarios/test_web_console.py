"""The web console over HTTP: signing in, one workspace never seeing another's, CSRF, headers,
article text rendered inert, and changes made through the same commands as chat.

The browser-driven flows (and accessibility) are in test_web_browser.py; these use a plain
HTTP client against the same running server, over SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support.web_console import HOSTILE_TITLE, Console, running_console

from bot.chat.replies import CommandContext, ReplyKind
from bot.ops.signin import Scope, SignIns
from bot.store.repo import Store

T1 = Scope("slack", "T1")


@pytest.fixture()
def console(store: Store, tmp_path: Path) -> Iterator[Console]:
    with running_console(store, tmp_path) as running:
        yield running


def signed_in(console: Console, scope: Scope = T1) -> httpx.Client:
    client = httpx.Client(base_url=console.url, follow_redirects=False)
    link = console.link(scope)
    token = link.rsplit("/", 1)[1]
    page = client.get(f"/signin/{token}")
    assert page.status_code == 200 and "Sign in" in page.text
    answer = client.post("/signin", data={"token": token})
    assert answer.status_code == 303
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def post_digest(console: Console) -> int:
    """Post T1's digest now, through the engine, and return its delivery id."""
    delivery = console.on_loop(console.core.deliverer.deliver_now(console.ours))
    assert delivery is not None and delivery.state == "sent"
    return delivery.id


def test_a_link_signs_in_once_and_sets_a_safe_cookie(console: Console) -> None:
    client = httpx.Client(base_url=console.url, follow_redirects=False)
    assert client.get("/").status_code == 401  # signed out: how to sign in, no data
    token = console.link(T1).rsplit("/", 1)[1]
    assert client.get(f"/signin/{token}").status_code == 200  # looking does not use it
    answer = client.post("/signin", data={"token": token})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert client.get("/").status_code == 200
    other = httpx.Client(base_url=console.url)
    assert other.post("/signin", data={"token": token}).status_code == 410  # replayed
    assert other.get(f"/signin/{token}").status_code == 410
    assert other.get("/").status_code == 401


def test_an_expired_link_is_refused(console: Console) -> None:
    token = SignIns(console.store).mint(T1, "slack:U1", datetime.now(UTC) - timedelta(minutes=11))
    client = httpx.Client(base_url=console.url)
    assert client.post("/signin", data={"token": token}).status_code == 410
    assert client.get("/").status_code == 401


def test_sign_in_attempts_are_rate_limited(console: Console) -> None:
    client = httpx.Client(base_url=console.url)
    codes = [client.post("/signin", data={"token": f"guess{i}"}).status_code for i in range(12)]
    assert codes[:10] == [410] * 10 and codes[-1] == 429


def test_sign_out_ends_the_session(console: Console) -> None:
    client = signed_in(console)
    page = client.get("/")
    assert client.post("/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert client.get("/").status_code == 401


def test_one_workspace_never_sees_another(console: Console) -> None:
    theirs_delivery = console.on_loop(console.core.deliverer.deliver_now(console.theirs))
    assert theirs_delivery is not None
    client = signed_in(console, T1)
    listing = client.get("/channels").text
    # the rendered cells, not bare ids: a random CSRF token may contain "C2"
    assert "slack · C1<" in listing and "slack · C2<" not in listing
    assert client.get(f"/channels/{console.ours.id}").status_code == 200
    assert client.get(f"/channels/{console.theirs.id}").status_code == 404
    assert client.get(f"/channels/{console.theirs.id}/preview").status_code == 404
    assert client.get(f"/digests/{theirs_delivery.id}").status_code == 404
    their_source = console.store.channel_sources(console.theirs.id)[0].id
    assert client.get(f"/sources/{their_source}").status_code == 404
    assert "/t2" not in client.get("/sources").text  # their folder (tokens have no "/")
    assert "Harbour story 2-7" not in client.get("/digests?q=harbour").text
    # changing their channel through a form is "not found" too, and changes nothing
    csrf = csrf_of(client.get("/").text)
    answer = client.post(
        f"/channels/{console.theirs.id}/run/schedule", data={"csrf": csrf, "when": "off"}
    )
    assert answer.status_code == 404
    theirs = console.store.channel_by_id(console.theirs.id)
    assert theirs is not None and theirs.schedule is not None
    # the operator sees both
    operator = signed_in(console, Scope())
    assert operator.get(f"/channels/{console.theirs.id}").status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    client = signed_in(console)
    for data in ({"when": "off"}, {"when": "off", "csrf": "forged"}):
        answer = client.post(f"/channels/{console.ours.id}/run/schedule", data=data)
        assert answer.status_code == 403
    ours = console.store.channel_by_id(console.ours.id)
    assert ours is not None and ours.schedule == console.ours.schedule
    source = console.store.channel_sources(console.ours.id)[0].id
    assert client.post(f"/sources/{source}/resume", data={}).status_code == 403


def test_every_response_carries_the_security_headers(console: Console) -> None:
    client = signed_in(console)
    for path in ("/", "/channels", "/nowhere", "/static/console.css", "/signin/x"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    signed_out = httpx.Client(base_url=console.url).get("/")
    assert "default-src 'self'" in signed_out.headers["content-security-policy"]


def test_article_text_renders_inert_everywhere(console: Console) -> None:
    delivery = post_digest(console)
    client = signed_in(console)
    pages = [
        f"/digests/{delivery}",
        "/digests",
        "/digests?q=pier",
        f"/channels/{console.ours.id}/preview",
        f"/sources/{console.store.channel_sources(console.ours.id)[0].id}",
        "/",
    ]
    for path in pages:
        body = client.get(path).text
        assert "<script>alert" not in body and "<img src=x" not in body, path
        assert 'onerror="' not in body, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/digests/{delivery}").text
    assert HOSTILE_TITLE not in client.get("/digests").text


def test_forms_run_the_chat_commands_with_their_checks(console: Console) -> None:
    client = signed_in(console)
    page = client.get(f"/channels/{console.ours.id}")
    csrf = csrf_of(page.text)
    url = f"/channels/{console.ours.id}/run"
    # a schedule change is saved and reported once
    answer = client.post(
        f"{url}/schedule",
        data={"csrf": csrf, "when": "weekdays 07:30", "timezone": "Europe/Berlin"},
    )
    assert answer.status_code == 303
    ours = console.store.channel_by_id(console.ours.id)
    assert (
        ours is not None and ours.timezone == "Europe/Berlin" and "07:30" in (ours.schedule or "")
    )
    after = client.get(f"/channels/{console.ours.id}").text
    assert "07:30" in after and 'class="flash"' in after
    assert 'class="flash"' not in client.get(f"/channels/{console.ours.id}").text  # shown once
    # a bad regex: the chat command's error, the typed text kept, nothing saved
    answer = client.post(
        f"{url}/filter", data={"csrf": csrf, "action": "include", "pattern": "/(unclosed/"}
    )
    assert answer.status_code == 400
    assert "Not saved" in answer.text and "(unclosed" in answer.text
    assert console.store.filters(console.ours.id) == []
    # an unknown timezone is the schedule command's error
    answer = client.post(f"{url}/schedule", data={"csrf": csrf, "when": "daily 08:00 Mars/Base"})
    assert answer.status_code == 400
    # the same form sent twice (a double click) runs once
    form = {"csrf": csrf, "action": "exclude", "pattern": "sports", "nonce": "n1"}
    assert client.post(f"{url}/filter", data=form).status_code == 303
    assert client.post(f"{url}/filter", data=form).status_code == 303
    assert [r.pattern for r in console.store.filters(console.ours.id)] == ["sports"]
    # a message template: a text area; an injection is refused, a good one saved
    page = client.get(f"/channels/{console.ours.id}").text
    assert '<textarea id="template-template"' in page
    bad = {"csrf": csrf, "action": "set", "part": "entry", "template": "{{ ''.__class__ }}"}
    assert client.post(f"{url}/template", data=bad).status_code == 400
    good = {"csrf": csrf, "action": "set", "part": "entry", "template": "{{ title }}\n{{ outlet }}"}
    assert client.post(f"{url}/template", data=good).status_code == 303
    saved = console.store.channel_settings(console.ours.id).entry_template
    assert saved == "{{ title }}\n{{ outlet }}"
    assert "{{ title }}" in client.get(f"/channels/{console.ours.id}").text
    # commands the console does not offer are not found
    assert client.post(f"{url}/web", data={"csrf": csrf}).status_code == 404


def test_preview_sends_nothing_and_send_now_posts(console: Console) -> None:
    client = signed_in(console)
    preview = client.get(f"/channels/{console.ours.id}/preview").text
    assert "Harbour story 1-2" in preview and console.poster.posts == []
    csrf = csrf_of(preview)
    answer = client.post(f"/channels/{console.ours.id}/run/now", data={"csrf": csrf})
    assert answer.status_code == 303
    assert len(console.poster.posts) == 3  # the top message and two articles
    assert "Posted a digest of 2 articles" in client.get(f"/channels/{console.ours.id}").text
    assert "Nothing new to post" in client.get(f"/channels/{console.ours.id}/preview").text


def test_the_archive_finds_posted_articles_by_their_words(console: Console) -> None:
    delivery = post_digest(console)
    client = signed_in(console)
    found = client.get("/digests", params={"q": "5 weeks"}).text
    assert "Harbour story 1-2" in found and f"/digests/{delivery}" in found
    assert "Pier vote" not in found  # "5 weeks" is the second story's only
    assert "No posted article" in client.get("/digests", params={"q": "zeppelin"}).text
    assert client.get("/digests", params={"q": '"* OR NEAR('}).status_code == 200
    archive = client.get(f"/digests/{delivery}").text
    assert "Harbour story 1-2" in archive and "million dollars" in archive


def test_a_paused_source_can_be_resumed(console: Console) -> None:
    source = console.store.channel_sources(console.ours.id)[0].id
    for _ in range(5):
        console.store.fetch_failed(source, "HTTP 500", datetime.now(UTC), 5)
    client = signed_in(console)
    page = client.get(f"/sources/{source}").text
    assert "paused" in page and "HTTP 500" in page
    answer = client.post(f"/sources/{source}/resume", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    resumed = console.store.source_by_id(source)
    assert resumed is not None and not resumed.paused and resumed.failures == 0


def test_digest_web_gives_an_admin_a_private_link_for_their_workspace(console: Console) -> None:
    handler = console.core.command_handler()
    admin = CommandContext("C1", "U1", is_admin=True, platform="slack", tenant="T1")
    reply = asyncio.run(handler.handle("web", admin))
    assert reply.kind is ReplyKind.INFO and not reply.share
    token = reply.text.rsplit("/signin/", 1)[1].strip()
    client = httpx.Client(base_url=console.url, follow_redirects=False)
    assert client.post("/signin", data={"token": token}).status_code == 303
    assert client.get(f"/channels/{console.theirs.id}").status_code == 404
    assert client.get(f"/channels/{console.ours.id}").status_code == 200
    guest = CommandContext("C1", "U2", platform="slack", tenant="T1")
    assert asyncio.run(handler.handle("web", guest)).kind is ReplyKind.ERROR
