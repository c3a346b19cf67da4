"""When an inbox is staffed: its weekly opening hours in its own time zone, minus holidays.

* ``OpeningHours`` rows give periods per weekday (several a day allowed), as wall-clock times
  in ``inbox.time_zone``; a period is open from ``opens`` (included) to ``closes`` (excluded),
  and a ``closes`` of 23:59 means midnight, so Monday 22:00–23:59 and Tuesday 00:00–06:00 are one
  night shift with no gap.
* A ``Holiday`` closes its date (in the inbox's time zone) all day.
* ``hours_enabled`` False: always open. Enabled with no rows: never open (the admin warns).
* Times are compared in UTC after converting each wall-clock time with zoneinfo, so a day on
  which the clocks change is as long as it really is. An opening time that the spring change
  skips (02:30 on a day that jumps from 02:00 to 03:00) opens at the first instant after the
  gap; an autumn wall-clock time that happens twice is open both times.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.tenants.models import Inbox
from helpdesk.widget.models import Holiday, OpeningHours

MIDNIGHT_MARK = time(23, 59)  # "closes 23:59" is the end of the day
# How far ahead next_opening looks: a year, plus enough for a run of holidays.
SEARCH_DAYS = 400


class Schedule:
    """An inbox's hours and holidays, loaded once (two queries) for repeated questions."""

    def __init__(self, inbox: Inbox, *, around: date | None = None):
        self.enabled = inbox.hours_enabled
        self.zone = inbox_zone(inbox)
        self.periods: dict[int, list[tuple[time, time | None]]] = defaultdict(list)
        self.holidays: set[date] = set()
        if not self.enabled:
            return
        for weekday, opens, closes in (
            OpeningHours.objects.filter(tenant_id=inbox.tenant_id, inbox=inbox)
            .order_by("weekday", "opens")
            .values_list("weekday", "opens", "closes")
        ):
            self.periods[weekday].append((opens, None if closes >= MIDNIGHT_MARK else closes))
        holidays = Holiday.objects.filter(tenant_id=inbox.tenant_id, inbox=inbox)
        if around is not None:
            holidays = holidays.filter(
                date__gte=around - timedelta(days=1), date__lte=around + timedelta(days=SEARCH_DAYS)
            )
        self.holidays = set(holidays.values_list("date", flat=True))

    def _bounds(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open periods as UTC instants."""
        if day in self.holidays:
            return []
        bounds = []
        for opens, closes in self.periods.get(day.weekday(), ()):
            start = _instant(day, opens, self.zone)
            end = (
                _instant(day + timedelta(days=1), time.min, self.zone)
                if closes is None
                else _instant(day, closes, self.zone)
            )
            if end > start:
                bounds.append((start, end))
        return bounds

    def is_open(self, at: datetime) -> bool:
        if not self.enabled:
            return True
        at = _utc(at)
        day = at.astimezone(self.zone).date()
        return any(start <= at < end for start, end in self._bounds(day))

    def next_opening(self, at: datetime) -> datetime | None:
        """``at`` itself when open then; otherwise the next instant the inbox opens, in its time
        zone; None when it never opens (enabled without hours, or closed for SEARCH_DAYS)."""
        if not self.enabled:
            return _utc(at).astimezone(self.zone)
        at = _utc(at)
        first = at.astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            for start, end in self._bounds(first + timedelta(days=offset)):
                if start <= at < end:
                    return at.astimezone(self.zone)
                if start > at:
                    return start.astimezone(self.zone)
        return None


def inbox_zone(inbox: Inbox) -> ZoneInfo:
    try:
        return ZoneInfo(inbox.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_open(inbox: Inbox, at: datetime) -> bool:
    """Is ``inbox`` within its business hours at ``at`` (an aware datetime)?"""
    return Schedule(inbox, around=_utc(at).date()).is_open(at)


def next_opening(inbox: Inbox, at: datetime) -> datetime | None:
    """When ``inbox`` is next open from ``at`` on (``at`` when it is open now), in its time
    zone; None when it never opens."""
    return Schedule(inbox, around=_utc(at).date()).next_opening(at)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time; a time skipped by a clock change maps past the gap
    (fold=0 reads it with the offset from before the change, which lands after it)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    return at.astimezone(UTC)
