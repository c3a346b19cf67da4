import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# A new inbox's greeting, marked for the catalogs: the admin offers it in the admin's language
# (InboxAdmin), and the widget shows what the inbox's row holds.
DEFAULT_GREETING = gettext_noop("Hi! How can we help?")


class Tenant(models.Model):
    """A business that uses the helpdesk. Every other row belongs to exactly one."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantOwned(models.Model):
    """Base for rows that belong to a tenant; the tenant-scoped admin relies on the field name."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Membership(TenantOwned):
    """A user's place in a tenant. A user belongs to at most one tenant, so the tenant a
    console or admin request acts for always follows from the user, never from a guess."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        AGENT = "agent", _("Agent")

    class Availability(models.TextChoices):
        ONLINE = "online", _("Online")
        BUSY = "busy", _("Busy")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    availability = models.CharField(
        max_length=10, choices=Availability.choices, default=Availability.OFFLINE
    )
    max_concurrent_chats = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("How many assigned conversations this agent handles at once."),
    )
    is_active = models.BooleanField(default=True)
    # Round-robin: the available agent assigned longest ago gets the next conversation.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["admin", "agent"]), name="membership_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(availability__in=["online", "busy", "offline"]),
                name="membership_availability_valid",
            ),
            models.CheckConstraint(
                condition=Q(max_concurrent_chats__gte=1), name="membership_capacity_positive"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "role", "availability"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.tenant})"


def new_public_key() -> str:
    return secrets.token_urlsafe(24)


def validate_origins(value: str) -> None:
    bad = [line for line in parse_origins(value) if not _looks_like_origin(line)]
    if bad:
        raise ValidationError(
            "Each line must be an origin such as https://shop.example.com (scheme, host, "
            "optional port; no path): %(bad)s",
            params={"bad": ", ".join(bad)},
            code="invalid_origin",
        )


def parse_origins(value: str) -> list[str]:
    return [line.strip().rstrip("/").lower() for line in value.splitlines() if line.strip()]


def _looks_like_origin(candidate: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not parts.path
        and not parts.query
        and not parts.fragment
        and not parts.username
    )


class Inbox(TenantOwned):
    """A chat widget placed on a tenant's site, addressed by an unguessable public key."""

    class ReopenTo(models.TextChoices):
        BOT = "bot", _("The bot")
        LAST_AGENT = "last_agent", _("The last agent")

    name = models.CharField(max_length=100)
    public_key = models.CharField(
        max_length=64, unique=True, default=new_public_key, editable=False
    )
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "One origin per line (e.g. https://shop.example.com). The widget only "
            "connects from these pages."
        ),
    )
    greeting = models.CharField(max_length=500, blank=True, default=DEFAULT_GREETING)
    reopen_to = models.CharField(
        max_length=12,
        choices=ReopenTo.choices,
        default=ReopenTo.BOT,
        help_text=_("Who answers when a customer writes again in a resolved conversation."),
    )
    bot = models.ForeignKey(
        "ai.BotConfig",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inboxes",
        help_text=_("Who answers first. Without a bot, conversations go straight to the queue."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("inboxes")
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self) -> str:
        return self.name

    def origin_allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        return origin.strip().rstrip("/").lower() in parse_origins(self.allowed_origins)
