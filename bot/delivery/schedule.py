"""Channel schedules: "weekdays 08:00", "daily 07:30", "mon,thu 09:00 Europe/Berlin".

A delivery is keyed on the channel's local date and slot time, never on the
moment a timer fired: APScheduler fires a 01:30 job twice on the autumn
clock-change night, and both firings name the same slot. Day names are parsed
here; APScheduler's `from_crontab` counts weekdays from Monday = 0, so crontab
numbers are never handed to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import NewsdigestError
from bot.i18n import _
from bot.store.repo import ChannelInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {
    "daily": set(range(7)),
    "everyday": set(range(7)),
    "every": set(range(7)),
    "day": set(range(7)),
    "weekdays": set(range(5)),
    "weekday": set(range(5)),
    "workdays": set(range(5)),
    "weekends": {5, 6},
    "weekend": {5, 6},
}
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


class ScheduleError(NewsdigestError):
    kind = "bad_schedule"


@dataclass(frozen=True)
class Schedule:
    days: frozenset[int]  # 0 = Monday
    at: time
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        if self.days == frozenset(range(7)):
            days = "daily"
        elif self.days == frozenset(range(5)):
            days = "weekdays"
        elif self.days == frozenset({5, 6}):
            days = "weekends"
        else:
            days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.at.strftime('%H:%M')} {self.timezone}"

    def cron_fields(self) -> dict[str, str | int]:
        """Fields for APScheduler's CronTrigger, with day names (never crontab numbers)."""
        return {
            "day_of_week": ",".join(DAY_NAMES[d] for d in sorted(self.days)),
            "hour": self.at.hour,
            "minute": self.at.minute,
        }


def parse_schedule(text: str, timezone: str | None = None) -> Schedule:
    """Parse "weekdays 08:00 [Europe/Berlin]"; raise ScheduleError with a hint otherwise."""
    words = text.replace(",", " , ").split()
    zone_name = timezone
    if (words and "/" in words[-1]) or (words and words[-1].upper() == "UTC"):
        zone_name = words.pop()
    zone_name = zone_name or "UTC"
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            _("Unknown time zone '{zone}'. Use a name like Europe/Berlin or UTC.").format(
                zone=zone_name
            )
        ) from exc
    at: time | None = None
    days: set[int] = set()
    for word in words:
        lowered = word.lower().strip(",")
        if not lowered:
            continue
        match = _TIME.match(lowered)
        if match and (":" in lowered or match.group(3)):
            at = _to_time(match)
        elif lowered in _ALIASES:
            days |= _ALIASES[lowered]
        elif "-" in lowered and all(p[:3] in DAY_NAMES for p in lowered.split("-", 1)):
            start, end = (DAY_NAMES.index(p[:3]) for p in lowered.split("-", 1))
            days |= {d % 7 for d in range(start, end + 1 if end >= start else end + 8)}
        elif lowered[:3] in DAY_NAMES and lowered.rstrip("s").startswith(lowered[:3]):
            days.add(DAY_NAMES.index(lowered[:3]))
        elif lowered in ("at", "on", "every"):
            continue
        else:
            raise ScheduleError(
                _(
                    "Cannot read '{word}' in the schedule. Try 'weekdays 08:00 Europe/Berlin'."
                ).format(word=word)
            )
    if at is None:
        raise ScheduleError(_("The schedule needs a time, like 'daily 08:00'."))
    return Schedule(frozenset(days or range(7)), at, zone_name)


def _to_time(match: re.Match[str]) -> time:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    ampm = (match.group(3) or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ScheduleError(_("{value} is not a time of day.").format(value=match.group(0)))
    return time(hour, minute)


def slot_key(day: date, at: time) -> str:
    return f"{day.isoformat()}T{at.strftime('%H:%M')}"


def slot_instant(schedule: Schedule, day: date) -> datetime:
    """When a slot falls; a wall time skipped by a spring-forward change maps to just after it."""
    return datetime.combine(day, schedule.at, tzinfo=schedule.zone)


def slots_between(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """All (slot key, instant) with start < instant <= end, oldest first."""
    zone = schedule.zone
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    slots = []
    day = first_day
    while day <= last_day:
        if day.weekday() in schedule.days:
            instant = slot_instant(schedule, day)
            if start < instant <= end:
                slots.append((slot_key(day, schedule.at), instant))
        day += timedelta(days=1)
    return slots


def channel_schedule(channel: ChannelInfo) -> Schedule | None:
    """A stored channel's schedule, or None when it has none (or one that no longer parses)."""
    if not channel.schedule:
        return None
    try:
        return parse_schedule(channel.schedule, channel.timezone)
    except ScheduleError:
        return None
