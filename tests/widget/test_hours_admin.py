"""The inbox admin's business hours: a warning when they are on without any hours, and whether
the inbox is open now."""

from datetime import time

import pytest

from helpdesk.tenants.models import Inbox
from helpdesk.widget.models import OpeningHours
from tests.support.admin_urls import admin_url
from tests.tenants.test_admin import inbox_post

pytestmark = pytest.mark.django_db


def hours_rows(*rows):
    data = {"opening_hours-TOTAL_FORMS": len(rows), "opening_hours-INITIAL_FORMS": 0}
    for index, (weekday, opens, closes) in enumerate(rows):
        data.update(
            {
                f"opening_hours-{index}-weekday": weekday,
                f"opening_hours-{index}-opens": opens,
                f"opening_hours-{index}-closes": closes,
            }
        )
    return data


def test_hours_on_without_rows_is_a_form_error(tenant_admin_client):
    response = tenant_admin_client.post(
        admin_url(Inbox, "add"), inbox_post(hours_enabled="on", time_zone="Europe/Paris")
    )

    assert response.status_code == 200
    assert "no opening hours are set" in response.content.decode()
    assert not Inbox.objects.exists()


def test_hours_on_with_rows_saves(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        admin_url(Inbox, "add"),
        inbox_post(hours_enabled="on", **hours_rows((0, "09:00", "17:00"))),
    )

    assert response.status_code == 302
    inbox = Inbox.objects.get()
    assert inbox.hours_enabled
    assert list(OpeningHours.objects.filter(inbox=inbox).values_list("opens", flat=True)) == [
        time(9)
    ]


def test_hours_off_without_rows_saves(tenant_admin_client):
    response = tenant_admin_client.post(admin_url(Inbox, "add"), inbox_post())

    assert response.status_code == 302


def test_deleting_the_last_row_while_hours_are_on_is_refused(tenant_admin_client, inbox):
    inbox.hours_enabled = True
    inbox.save()
    row = OpeningHours.objects.create(
        tenant=inbox.tenant, inbox=inbox, weekday=0, opens=time(9), closes=time(17)
    )
    data = inbox_post(hours_enabled="on")
    data.update(
        {
            "opening_hours-TOTAL_FORMS": 1,
            "opening_hours-INITIAL_FORMS": 1,
            "opening_hours-0-id": row.pk,
            "opening_hours-0-inbox": inbox.pk,
            "opening_hours-0-weekday": 0,
            "opening_hours-0-opens": "09:00",
            "opening_hours-0-closes": "17:00",
            "opening_hours-0-DELETE": "on",
        }
    )

    response = tenant_admin_client.post(admin_url(Inbox, "change", inbox.pk), data)

    assert response.status_code == 200
    assert "no opening hours are set" in response.content.decode()
    assert OpeningHours.objects.filter(pk=row.pk).exists()


def test_the_change_page_shows_whether_the_inbox_is_open_now(tenant_admin_client, inbox):
    page = tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk)).content.decode()
    assert "business hours are off: always open" in page

    inbox.hours_enabled = True
    inbox.save()
    for weekday in range(7):
        OpeningHours.objects.create(
            tenant=inbox.tenant, inbox=inbox, weekday=weekday, opens=time(0), closes=time(23, 59)
        )
    assert (
        "Open now."
        in tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk)).content.decode()
    )

    OpeningHours.objects.filter(inbox=inbox).delete()
    assert (
        "Closed, with no opening ahead."
        in tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk)).content.decode()
    )


def test_the_change_page_says_when_a_closed_inbox_opens(tenant_admin_client, inbox):
    inbox.hours_enabled = True
    inbox.time_zone = "Europe/Paris"
    inbox.save()
    from datetime import timedelta

    from helpdesk.widget.models import Holiday

    # Closed today and tomorrow (holidays), open every day: the day after tomorrow at 09:00.
    for weekday in range(7):
        OpeningHours.objects.create(
            tenant=inbox.tenant, inbox=inbox, weekday=weekday, opens=time(9), closes=time(9, 30)
        )
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    today = timezone.now().astimezone(ZoneInfo("Europe/Paris")).date()
    for day in (today, today + timedelta(days=1)):
        Holiday.objects.create(tenant=inbox.tenant, inbox=inbox, date=day)

    page = tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk)).content.decode()

    assert "Closed; opens" in page
    assert "(Europe/Paris)" in page
