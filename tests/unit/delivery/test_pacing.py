"""Pacing: GCRA buckets per channel and overall."""

from __future__ import annotations

import pytest

from bot.delivery.pacing import PaceLimits, Pacer


def test_pacer_spaces_posts_to_one_channel_and_overall() -> None:
    per_second = 50.0

    clock = [0.0]
    pacer = Pacer(PaceLimits(1.0, 1, per_second, margin=1.0), clock=lambda: clock[0])
    same = [pacer.channels.bucket("C").reserve() for _ in range(3)]
    assert same == [0.0, 1.0, 2.0]  # one a second in one channel
    overall = [pacer.overall.reserve() for _ in range(3)]
    assert overall == pytest.approx([0.0, 1 / per_second, 2 / per_second])
    pacer.defer("C", 5.0)
    assert pacer.channels.bucket("C").reserve() >= 5.0  # Retry-After holds the channel back
