"""What an inbox's widget asks and when it is staffed: the pre-chat form's fields and the
business hours (helpdesk/widget/prechat.py, helpdesk/widget/hours.py)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.tenants.models import Inbox, TenantOwned


class PrechatField(TenantOwned):
    class Kind(models.TextChoices):
        NAME = "name", _("Name")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        CHOICE = "choice", _("Choice")
        TEXT = "text", _("Short text")

    inbox = models.ForeignKey(
        Inbox, on_delete=models.CASCADE, related_name="prechat_fields", verbose_name=_("inbox")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # How answers are stored (Conversation.details); name, email and phone also fill the contact.
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    required = models.BooleanField(_("required"), default=False)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For a choice: one option per line.")
    )

    class Meta:
        verbose_name = _("pre-chat field")
        verbose_name_plural = _("pre-chat fields")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["inbox", "key"], name="prechat_field_key_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["name", "email", "phone", "choice", "text"]),
                name="prechat_field_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self):
        if self.kind == self.Kind.CHOICE and not self.choice_list():
            raise ValidationError({"choices": _("A choice needs at least one option.")})


class OpeningHours(TenantOwned):
    """One opening period on a weekday, in the inbox's time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    inbox = models.ForeignKey(
        Inbox, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("inbox")
    )
    weekday = models.PositiveSmallIntegerField(
        _("day"), choices=Weekday.choices, validators=[MaxValueValidator(6)]
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("23:59 for midnight."))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_order"),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="hours_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Holiday(TenantOwned):
    """A day the inbox is closed whatever its weekly hours say."""

    inbox = models.ForeignKey(
        Inbox, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("inbox")
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["inbox", "date"], name="holiday_once_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()
