from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from helpdesk.widget.hours import is_open, next_opening
from helpdesk.widget.models import Holiday, OpeningHours

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def shop(inbox):
    inbox.hours_enabled = True
    inbox.time_zone = "Europe/Paris"
    inbox.save()
    return inbox


def hours(inbox, weekday, opens, closes):
    OpeningHours.objects.create(
        tenant=inbox.tenant, inbox=inbox, weekday=weekday, opens=opens, closes=closes
    )


def weekdays(inbox, opens=time(9), closes=time(17)):
    for weekday in range(5):
        hours(inbox, weekday, opens, closes)


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_hours_disabled_is_always_open(inbox):
    at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # a Sunday night

    assert is_open(inbox, at)
    assert next_opening(inbox, at) == at


def test_enabled_without_rows_never_opens(shop):
    at = paris(2026, 12, 7, 10)

    assert not is_open(shop, at)
    assert next_opening(shop, at) is None


def test_open_within_a_period_in_the_inbox_time_zone(shop):
    weekdays(shop)

    assert is_open(shop, paris(2026, 12, 7, 9, 0))  # Monday, opening minute included
    assert is_open(shop, paris(2026, 12, 7, 16, 59))
    assert not is_open(shop, paris(2026, 12, 7, 17, 0))  # closing minute excluded
    assert not is_open(shop, paris(2026, 12, 7, 8, 59))
    # 08:30 UTC is 09:30 in Paris in winter.
    assert is_open(shop, datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    assert not is_open(shop, datetime(2026, 12, 7, 7, 30, tzinfo=UTC))


def test_weekend_is_closed_and_monday_is_next(shop):
    weekdays(shop)
    friday_evening = paris(2026, 12, 11, 18, 0)

    assert not is_open(shop, friday_evening)
    assert not is_open(shop, paris(2026, 12, 12, 12, 0))  # Saturday
    assert next_opening(shop, friday_evening) == paris(2026, 12, 14, 9, 0)
    assert next_opening(shop, friday_evening).tzinfo == PARIS


def test_several_periods_a_day(shop):
    hours(shop, 0, time(9), time(12))
    hours(shop, 0, time(14), time(18))

    assert is_open(shop, paris(2026, 12, 7, 11))
    assert not is_open(shop, paris(2026, 12, 7, 13))
    assert next_opening(shop, paris(2026, 12, 7, 13)) == paris(2026, 12, 7, 14)
    assert next_opening(shop, paris(2026, 12, 7, 7)) == paris(2026, 12, 7, 9)
    # After the last period of Monday: next Monday.
    assert next_opening(shop, paris(2026, 12, 7, 19)) == paris(2026, 12, 14, 9)


def test_open_now_is_its_own_next_opening(shop):
    weekdays(shop)
    at = paris(2026, 12, 7, 10)

    assert next_opening(shop, at) == at


def test_a_period_until_23_59_runs_to_midnight_and_joins_the_next_day(shop):
    hours(shop, 0, time(22), time(23, 59))
    hours(shop, 1, time(0), time(6))

    assert is_open(shop, paris(2026, 12, 7, 23, 59, 30))  # the last seconds of Monday
    assert is_open(shop, paris(2026, 12, 8, 0, 0))
    assert is_open(shop, paris(2026, 12, 8, 5, 59))
    assert not is_open(shop, paris(2026, 12, 8, 6, 0))
    assert next_opening(shop, paris(2026, 12, 8, 7)) == paris(2026, 12, 14, 22)


def test_a_holiday_is_closed_all_day(shop):
    weekdays(shop)
    Holiday.objects.create(tenant=shop.tenant, inbox=shop, date=date(2026, 12, 25), name="Xmas")

    assert not is_open(shop, paris(2026, 12, 25, 10))  # a Friday
    assert next_opening(shop, paris(2026, 12, 24, 18)) == paris(2026, 12, 28, 9)


def test_holiday_dates_are_the_inbox_local_dates(shop):
    weekdays(shop)
    Holiday.objects.create(tenant=shop.tenant, inbox=shop, date=date(2026, 12, 8))

    # 23:30 UTC Monday is already Tuesday 00:30 in Paris: the holiday.
    assert not is_open(shop, datetime(2026, 12, 8, 8, 30, tzinfo=UTC))
    assert next_opening(shop, datetime(2026, 12, 7, 23, 30, tzinfo=UTC)) == paris(2026, 12, 9, 9)


def test_consecutive_holidays_are_skipped(shop):
    weekdays(shop)
    for day in (7, 8, 9):
        Holiday.objects.create(tenant=shop.tenant, inbox=shop, date=date(2026, 12, day))

    assert next_opening(shop, paris(2026, 12, 5, 12)) == paris(2026, 12, 10, 9)


def test_spring_forward_keeps_wall_clock_hours(shop):
    weekdays(shop)
    # Europe/Paris moves to summer time on Sunday 29 March 2026: 09:00 is 07:00 UTC after it.
    assert not is_open(shop, datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    assert is_open(shop, datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    opening = next_opening(shop, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert opening.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert (opening.hour, opening.minute, opening.utcoffset().total_seconds()) == (9, 0, 7200)


def test_fall_back_keeps_wall_clock_hours(shop):
    weekdays(shop)
    # Back to winter time on Sunday 25 October 2026: 09:00 is 08:00 UTC from Monday.
    assert not is_open(shop, datetime(2026, 10, 26, 7, 30, tzinfo=UTC))
    assert is_open(shop, datetime(2026, 10, 26, 8, 0, tzinfo=UTC))
    # The Friday before was still summer time.
    assert is_open(shop, datetime(2026, 10, 23, 7, 0, tzinfo=UTC))


def test_an_opening_time_skipped_by_the_clock_change_opens_after_the_gap(shop):
    shop.time_zone = "America/New_York"
    shop.save()
    hours(shop, 6, time(2, 30), time(5))  # Sundays; 8 March 2026 jumps from 02:00 to 03:00

    opening = next_opening(shop, datetime(2026, 3, 8, 5, 0, tzinfo=UTC))  # 00:00 EST

    assert opening == datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK)  # 07:30 UTC
    assert opening.utcoffset().total_seconds() == -4 * 3600
    # The period is an hour shorter that day, not longer: open 03:30-05:00 EDT.
    assert is_open(shop, datetime(2026, 3, 8, 8, 59, tzinfo=UTC))
    assert not is_open(shop, datetime(2026, 3, 8, 9, 0, tzinfo=UTC))


def test_a_period_across_the_autumn_repeat_lasts_an_hour_longer(shop):
    shop.time_zone = "America/New_York"
    shop.save()
    hours(shop, 6, time(0), time(3))  # Sunday 1 November 2026, 02:00 EDT → 01:00 EST

    # 00:00 EDT = 04:00 UTC to 03:00 EST = 08:00 UTC: four real hours.
    assert is_open(shop, datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    assert is_open(shop, datetime(2026, 11, 1, 7, 59, tzinfo=UTC))
    assert not is_open(shop, datetime(2026, 11, 1, 8, 0, tzinfo=UTC))


def test_naive_datetimes_are_refused(shop):
    with pytest.raises(ValueError, match="aware"):
        is_open(shop, datetime(2026, 12, 7, 10))  # noqa: DTZ001
