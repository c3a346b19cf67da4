import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.core.crypto import decrypt, encrypt
from helpdesk.tenants.models import TenantOwned
from helpdesk.webhooks.events import EVENT_CHOICES


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def encrypted_secret_generate() -> str:
    return encrypt(secret_generate())


class Webhook(TenantOwned):
    """An endpoint of the tenant's own systems that hears of the events it chose."""

    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(
        _("events"), default=list, help_text=_("The events sent to this URL.")
    )
    # Encrypted at rest like bots' API keys (ENCRYPTION_KEY): it must be readable to sign.
    secret_encrypted = models.TextField(default=encrypted_secret_generate, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-created_at", "-id"]

    @property
    def secret(self) -> str:
        """Signs every delivery (X-Helpdesk-Signature)."""
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt(value)

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> str:
        labels = dict(EVENT_CHOICES)
        return ", ".join(str(labels.get(name, name)) for name in self.events)


class WebhookDelivery(TenantOwned):
    """One event for one webhook, sent until the receiver answers 2xx or retries run out."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    UNDELIVERED = (Status.PENDING, Status.FAILED)

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4)
    event = models.CharField(_("event"), max_length=64, choices=EVENT_CHOICES)
    conversation_id = models.BigIntegerField(_("conversation"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_id"], name="webhook_delivery_event_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["webhook", "conversation_id", "status", "occurred_at"],
                name="webhook_delivery_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"
