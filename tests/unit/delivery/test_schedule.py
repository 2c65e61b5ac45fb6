"""Channel schedules: day names and times in the channel's zone, slots keyed on local time."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.delivery.schedule import ScheduleError, channel_schedule, parse_schedule, slots_between
from bot.store.repo import ChannelInfo


def test_day_names_times_and_zones() -> None:
    schedule = parse_schedule("weekdays 08:00 Europe/Berlin")
    assert (schedule.days, schedule.at, schedule.timezone) == (
        frozenset(range(5)),
        time(8, 0),
        "Europe/Berlin",
    )
    assert schedule.describe() == "weekdays 08:00 Europe/Berlin"
    assert parse_schedule("mon,thu 7:30pm").describe() == "mon,thu 19:30 UTC"
    assert parse_schedule("fri-mon 06:00", "Asia/Tokyo").days == frozenset({4, 5, 6, 0})
    assert parse_schedule("daily 12am").at == time(0, 0)
    assert parse_schedule("daily 08:00").cron_fields() == {
        "day_of_week": "mon,tue,wed,thu,fri,sat,sun",
        "hour": 8,
        "minute": 0,
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("weekdays", "needs a time"),
        ("daily 25:00", "not a time of day"),
        ("daily 08:00 Mars/Olympus", "Unknown time zone"),
        ("fortnightly 08:00", "Cannot read 'fortnightly'"),
    ],
)
def test_what_cannot_be_read_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text)


def test_slots_are_keyed_on_the_local_date_and_time() -> None:
    schedule = parse_schedule("daily 01:30 America/New_York")
    start = datetime(2024, 11, 2, 12, tzinfo=UTC)
    end = datetime(2024, 11, 4, 12, tzinfo=UTC)  # across the autumn clock change
    slots = slots_between(schedule, start, end)
    assert [key for key, _ in slots] == ["2024-11-03T01:30", "2024-11-04T01:30"]
    assert all(start < at <= end for _, at in slots)


def test_a_stored_schedule_that_no_longer_parses_is_none() -> None:
    now = datetime.now(UTC)
    good = ChannelInfo(1, "slack", "C1", "daily 08:00 UTC", "UTC", False, None, now)
    assert channel_schedule(good) is not None
    broken = ChannelInfo(2, "slack", "C2", "whenever", "UTC", False, None, now)
    assert channel_schedule(broken) is None
    assert channel_schedule(ChannelInfo(3, "slack", "C3", None, "UTC", False, None, now)) is None
