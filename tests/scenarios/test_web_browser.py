"""The web console in a real headless Chromium: sign in with a link, change a schedule, try a
filter with a bad regular expression, preview the next digest, search the archive; axe-core
checks every page for serious or critical accessibility problems, and each page is saved as
a screenshot in tests/artifacts/ (git-ignored; CI keeps it).

Chromium is Debian's (`.ci/run` installs it); axe-core comes inside the axe-playwright-python
wheel, so nothing is fetched while the tests run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT
from support.web_console import Console, running_console

from bot.ops.signin import Scope
from bot.store.repo import Store

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
SERIOUS = {"serious", "critical"}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("NEWSDIGEST_REQUIRE_BROWSER"),
    reason="no chromium here (.ci/run installs Debian's and requires it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        # root cannot keep Chromium's sandbox; the browser only ever loads our loopback app
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=os.getuid() != 0
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def axe_js() -> str:
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture()
def console(tmp_path: Path) -> Iterator[Console]:
    store = Store.open(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    try:
        with running_console(store, tmp_path) as running:
            yield running
    finally:
        store.engine.dispose()


@pytest.fixture()
def page(browser: Any, console: Console) -> Iterator[Any]:
    context = browser.new_context(base_url=console.url, viewport={"width": 1100, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()


def problems(page: Any, axe_js: str) -> list[str]:
    """Serious or critical axe violations on the page, as "id: help" lines."""
    page.evaluate(axe_js)  # through DevTools: the page keeps its real CSP
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']}" for v in result["violations"] if v["impact"] in SERIOUS]


def look(page: Any, axe_js: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)
    assert problems(page, axe_js) == [], name


def test_an_admin_signs_in_and_manages_a_channel(page: Any, console: Console, axe_js: str) -> None:
    from playwright.sync_api import expect

    console.on_loop(console.core.deliverer.deliver_now(console.theirs))
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to the newsdigest console")).to_be_visible()
    look(page, axe_js, "signed-out")

    page.goto(console.link(Scope("slack", "T1")).removeprefix(console.url))
    look(page, axe_js, "signin")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "newsdigest_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    look(page, axe_js, "overview")

    page.get_by_role("link", name="Channels", exact=True).click()
    expect(page.get_by_role("link", name="slack · C1")).to_be_visible()
    expect(page.get_by_text("slack · C2")).to_have_count(0)  # another workspace's channel
    look(page, axe_js, "channels")

    page.get_by_role("link", name="slack · C1").click()
    look(page, axe_js, "channel")
    schedule = page.locator("#form-schedule")
    schedule.locator("#schedule-when").fill("weekdays 07:30")
    schedule.locator("#schedule-timezone").fill("Europe/Berlin")
    schedule.get_by_role("button", name="Save schedule").click()
    expect(page.locator(".flash")).to_contain_text("07:30")
    stored = console.store.channel_by_id(console.ours.id)
    assert stored is not None and stored.timezone == "Europe/Berlin"

    filters = page.locator("#form-filter")
    filters.locator("#filter-action").select_option("include")
    filters.locator("#filter-pattern").fill("/(unclosed/")
    filters.get_by_role("button", name="Save filter").click()
    expect(page.locator("#error-filter")).to_be_visible()
    expect(page.locator("#filter-pattern")).to_have_value("/(unclosed/")
    assert console.store.filters(console.ours.id) == []  # nothing saved
    look(page, axe_js, "channel-error")

    before = len(console.poster.posts)  # the other workspace's digest
    page.get_by_role("link", name="Preview the next digest").click()
    expect(page.get_by_text("Harbour story 1-2")).to_be_visible()
    assert len(console.poster.posts) == before  # a preview sends nothing
    look(page, axe_js, "preview")
    page.get_by_role("button", name="Send it now").click()
    expect(page.locator(".flash")).to_contain_text("Posted a digest of 2 articles")
    assert len(console.poster.posts) == before + 3
    # the README's pictures: what an admin sees first, once a digest went out
    page.goto("/")
    page.screenshot(path=str(ARTIFACTS / "readme-overview.png"))
    page.goto(f"/channels/{console.ours.id}")
    page.screenshot(path=str(ARTIFACTS / "readme-channel.png"))

    page.get_by_role("link", name="Digests").click()
    page.get_by_label("Search posted articles").fill("5 weeks")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 article for “5 weeks”")).to_be_visible()
    look(page, axe_js, "search")
    page.get_by_role("link", name="the digest of", exact=False).first.click()
    expect(page.get_by_text("Harbour story 1-2")).to_be_visible()
    look(page, axe_js, "digest")

    for name in ("Deliveries", "Sources"):
        page.get_by_role("link", name=name, exact=True).click()
        look(page, axe_js, name.lower())
    page.get_by_role(
        "link", name=console.store.channel_sources(console.ours.id)[0].url.removeprefix("path:")
    ).click()
    look(page, axe_js, "source")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the newsdigest console")).to_be_visible()


def test_hostile_article_text_never_runs(page: Any, console: Console) -> None:
    console.on_loop(console.core.deliverer.deliver_now(console.ours))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(console.link(Scope()).removeprefix(console.url))
    page.get_by_role("button", name="Sign in").click()
    for path in ("/digests", "/digests/1", "/digests?q=pier", "/sources/1"):
        page.goto(path)
        page.wait_for_load_state("load")
    assert dialogs == []
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
