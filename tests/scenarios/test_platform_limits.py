"""Any article text renders within Slack and Discord limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.discord_limits import assert_discord_payload
from support.slack_limits import assert_slack_payload

from adapters.console.poster import ConsolePoster
from adapters.discord.render import digest_messages as discord_messages
from adapters.slack.render import digest_messages as slack_messages
from bot.delivery.poster import ChannelDigest
from bot.digest.channel_view import channel_view
from bot.digest.templates import DEFAULTS, Templates
from bot.models import Article, Bullet, Digest, Paragraph, Section, SectionDigest, Sentence
from bot.store.repo import ChannelInfo

TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=3000
)


def digest_of(title: str, bullets: list[str], sections: list[tuple[str, list[str]]]) -> Digest:
    article = Article(
        title,
        (Section("s", 1, "S", True, (Paragraph((Sentence(0, "x"),)),)),),
        "src",
        url="https://example.com/a",
    )
    return Digest(
        article,
        tuple(Bullet(b, (0,)) for b in bullets),
        tuple(
            SectionDigest(f"s{i}", i + 1, h or "h", True, tuple(Bullet(b, (0,)) for b in bs))
            for i, (h, bs) in enumerate(sections)
        ),
    )


def digest_lists(sections: int, articles: int) -> st.SearchStrategy[list[Digest]]:
    """Digests of hostile text: up to `articles` of them, each with up to `sections` sections."""
    return st.lists(
        st.builds(
            digest_of,
            TEXTS,
            st.lists(TEXTS, max_size=5),
            st.lists(st.tuples(TEXTS, st.lists(TEXTS, max_size=4)), max_size=sections),
        ),
        min_size=1,
        max_size=articles,
    )


def limited(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@limited(40)
@given(digest_lists(sections=8, articles=12))
def test_renderers_keep_any_text_within_platform_limits(digests: list[Digest]) -> None:
    channel = ChannelInfo(1, "x", "C", None, "UTC", False, None, datetime.now(UTC))
    digest = ChannelDigest(channel, "2024-05-01T08:00", "Digest", tuple(digests))
    for message in slack_messages(digest):
        assert_slack_payload(message)
    discord = discord_messages(digest)
    for message in discord:
        assert_discord_payload(message)
    # nothing lost: every section the posted view names is present (bot/digest/channel_view.py)
    fields = sum(len(e.get("fields", [])) for m in discord for e in m["embeds"])
    views = [channel_view(d) for d in digests]
    assert fields >= sum(len(v.sections) + bool(v.listed) for v in views)
    # counted where the renderer puts them, not anywhere in the payload: hypothesis feeds the
    # test's own literals back as article text ("Also in this article" as a title, say)
    blocks = [b for m in slack_messages(digest) for b in m["blocks"]]
    elements = [e for b in blocks for e in b.get("elements", [])]
    notes = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    listed = [text for text in notes if text.startswith("Also in this article: ")]
    assert len(listed) == sum(bool(v.listed) for v in views)
    assert sum(e.get("action_id") == "newsdigest_open" for e in elements) == len(digests)


CUSTOM = Templates(
    header="{{ title }} · {{ count_text }} · {{ articles|map(attribute='outlet')|join(', ') }}",
    entry=(
        "*{{ number }}.* {{ link(url, title) }} ({{ outlet }})\n"
        "{% for b in summary %}• {{ b }}\n{% endfor %}"
        "{% for s in sections %}_{{ s.heading }}_: {{ s.bullets|first|default('') }}\n{% endfor %}"
    ),
)


@limited(25)
@given(digest_lists(sections=4, articles=8))
def test_the_default_templates_reproduce_the_built_in_output_and_custom_ones_keep_limits(
    digests: list[Digest],
) -> None:
    channel = ChannelInfo(1, "x", "C", None, "UTC", False, None, datetime.now(UTC))
    digest = ChannelDigest(channel, "2024-05-01T08:00", "Digest", tuple(digests))
    for platform, render in (
        ("slack", slack_messages),
        ("discord", discord_messages),
        ("console", ConsolePoster().render),
    ):
        as_default = replace(digest, templates=DEFAULTS[platform])
        assert render(as_default) == render(digest), platform
    custom = replace(digest, templates=CUSTOM)
    for message in slack_messages(custom):
        assert_slack_payload(message)
        assert "<!" not in str(message)  # no article text became a mention
    for message in discord_messages(custom):
        assert_discord_payload(message)
