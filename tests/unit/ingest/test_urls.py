"""Canonical URLs for dedup: tracking parameters off, order and case of the query ignored."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.urls import canonical_url


@given(
    st.sampled_from(
        [
            "https://Example.com/a/?b=2&a=1&utm_source=x#frag",
            "http://example.com:80/a",
            "https://example.com/a?fbclid=1",
            "https://example.com//a//b/",
        ]
    ),
    st.permutations(["x=1", "y=2", "utm_medium=m", "gclid=9"]),
)
def test_canonical_url_is_idempotent_and_blind_to_order_and_tracking(
    base: str, params: list[str]
) -> None:
    url = base.split("#")[0] + ("&" if "?" in base else "?") + "&".join(params)
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once and "gclid" not in once and "fbclid" not in once
    assert once == canonical_url(
        base.split("#")[0] + ("&" if "?" in base else "?") + "&".join(sorted(params))
    )
