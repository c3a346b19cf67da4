import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.core.filetypes import DEFAULT_ALLOWED_TYPES, validate_types
from helpdesk.core.languages import language_choices


class Tenant(models.Model):
    """A business that uses the helpdesk. Every other row belongs to exactly one."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantOwned(models.Model):
    """Base for rows that belong to a tenant; the tenant-scoped admin relies on the field name."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant")
    )

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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    availability = models.CharField(
        _("availability"),
        max_length=10,
        choices=Availability.choices,
        default=Availability.OFFLINE,
    )
    max_concurrent_chats = models.PositiveSmallIntegerField(
        _("maximum concurrent conversations"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("How many assigned conversations this agent handles at once."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=language_choices,
        help_text=_("The console's and the admin's language. Empty: the browser's."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Round-robin: the available agent assigned longest ago gets the next conversation.
    last_assigned_at = models.DateTimeField(
        _("last assigned"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
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


def new_identity_secret() -> str:
    return secrets.token_hex(32)


def validate_time_zone(value: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValidationError(
            _("Unknown time zone: %(zone)s (use a name such as Asia/Shanghai)."),
            params={"zone": value},
            code="invalid_time_zone",
        ) from None


def validate_origins(value: str) -> None:
    bad = [line for line in parse_origins(value) if not _looks_like_origin(line)]
    if bad:
        raise ValidationError(
            _(
                "Each line must be an origin such as https://shop.example.com (scheme, host, "
                "optional port; no path): %(bad)s"
            ),
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

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(
        _("public key"), max_length=64, unique=True, default=new_public_key, editable=False
    )
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "One origin per line (e.g. https://shop.example.com). The widget only "
            "connects from these pages."
        ),
    )
    greeting = models.CharField(
        _("greeting"),
        max_length=500,
        blank=True,
        help_text=_(
            "Shown in one language to every visitor. Empty: the built-in greeting in the "
            "visitor's language (change it per language under Built-in texts)."
        ),
    )
    language = models.CharField(
        _("widget language"),
        max_length=10,
        blank=True,
        choices=language_choices,
        help_text=_(
            "The widget's language when the page's tag sets none (data-locale). Empty: the "
            "visitor's browser language."
        ),
    )
    reopen_to = models.CharField(
        _("reopen to"),
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
        verbose_name=_("bot"),
        help_text=_("Who answers first. Without a bot, conversations go straight to the queue."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Attachments (helpdesk/conversations/attachments.py).
    attachments_enabled = models.BooleanField(
        _("customers may send files"),
        default=True,
        help_text=_("Agents may always send files; this is for the widget."),
    )
    attachment_types = models.TextField(
        _("allowed file types"),
        default=DEFAULT_ALLOWED_TYPES,
        validators=[validate_types],
        help_text=_(
            "MIME types, one per line, recognised by the file's content, not its name "
            "(e.g. image/png, application/pdf, text/plain)."
        ),
    )
    attachment_max_mb = models.PositiveSmallIntegerField(
        _("maximum file size (MB)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    attachments_per_message = models.PositiveSmallIntegerField(
        _("files per message"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )

    # Pre-chat form: its fields are PrechatField rows (helpdesk/widget/models.py).
    prechat_enabled = models.BooleanField(
        _("ask before the first message"),
        default=False,
        help_text=_("Show the pre-chat form's fields before a customer's first message."),
    )

    # Verified identity: HelpdeskWidget.identify() is signed with this (docs/widget.md).
    identity_secret = models.CharField(
        _("identity secret"), max_length=64, default=new_identity_secret, editable=False
    )

    # Business hours: OpeningHours and Holiday rows (helpdesk/widget/models.py).
    hours_enabled = models.BooleanField(
        _("business hours"),
        default=False,
        help_text=_("Outside these hours the widget offers the offline form."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )

    class RatingScale(models.TextChoices):
        OFF = "off", _("Do not ask")
        FIVE = "five", _("1 to 5 stars")
        THUMBS = "thumbs", _("Thumbs up or down")

    rating_scale = models.CharField(
        _("satisfaction rating"),
        max_length=10,
        choices=RatingScale.choices,
        default=RatingScale.FIVE,
        help_text=_("Asked in the widget when a conversation is resolved."),
    )

    # The widget's small touches.
    sound_enabled = models.BooleanField(
        _("sound for new replies"), default=True, help_text=_("Only while the tab is hidden.")
    )
    title_unread_enabled = models.BooleanField(
        _("unread count in the page title"),
        default=True,
        help_text=_("Only while the tab is hidden."),
    )
    launcher_label = models.CharField(
        _("launcher label"),
        max_length=60,
        blank=True,
        help_text=_('Text beside the chat button, e.g. "Questions? Chat with us".'),
    )
    proactive_message = models.CharField(
        _("proactive greeting"),
        max_length=300,
        blank=True,
        help_text=_("Shown beside the closed widget after the delay below."),
    )
    proactive_delay_seconds = models.PositiveSmallIntegerField(
        _("proactive greeting after (seconds)"),
        default=0,
        validators=[MaxValueValidator(3600)],
        help_text=_("0: never."),
    )

    class Meta:
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self) -> str:
        return self.name

    def origin_allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        return origin.strip().rstrip("/").lower() in parse_origins(self.allowed_origins)


class BuiltInText(TenantOwned):
    """A tenant's own wording, in one language, of a text the helpdesk says by itself."""

    class Key(models.TextChoices):
        GREETING = "greeting", _("Widget greeting")
        FALLBACK = "fallback", _("Bot unavailable: passing to a human")
        NO_KNOWLEDGE = "no_knowledge", _("Bot found no answer in the knowledge")
        HANDOFF = "handoff", _("Handoff notice")

    key = models.CharField(_("kind"), max_length=20, choices=Key.choices)
    language = models.CharField(_("language"), max_length=10, choices=language_choices)
    text = models.TextField(_("text"), max_length=1000)

    class Meta:
        verbose_name = _("built-in text")
        verbose_name_plural = _("built-in texts")
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key", "language"], name="builtintext_once_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.get_language_display()})"


class AuditEntry(TenantOwned):
    """Who exported or deleted what about people, and when (helpdesk/tenants/audit.py)."""

    class Action(models.TextChoices):
        CONTACT_EXPORTED = "contact_exported", _("Contact exported")
        CONTACT_DELETED = "contact_deleted", _("Contact deleted")
        RETENTION_APPLIED = "retention_applied", _("Retention applied")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Kept when the user is gone, and for actors that are not users (an API key, the job).
    actor_label = models.CharField(_("by (as recorded)"), max_length=200)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    subject = models.CharField(_("what"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"
