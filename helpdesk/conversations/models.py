import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.core.languages import language_choices, supported_language
from helpdesk.core.storage import attachment_storage
from helpdesk.tenants.models import Inbox, TenantOwned


class Contact(TenantOwned):
    """A customer of a tenant; anonymous until they give a name or e-mail."""

    visitor_id = models.UUIDField(_("visitor ID"), default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # The tenant's own id for this customer (their CRM's, their shop's), set through the API.
    external_id = models.CharField(_("external ID"), max_length=200, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    # What the helpdesk writes to this customer by itself is in this language.
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=language_choices,
        help_text=_("The language of the widget this customer last opened."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "visitor_id"], name="contact_visitor_unique"),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "email"])]

    def __str__(self) -> str:
        return (
            self.name or self.email or gettext("Visitor %(id)s") % {"id": str(self.visitor_id)[:8]}
        )


class Conversation(TenantOwned):
    class Status(models.TextChoices):
        BOT = "bot", _("With the bot")
        QUEUED = "queued", _("Waiting for an agent")
        ASSIGNED = "assigned", _("With an agent")
        RESOLVED = "resolved", _("Resolved")

    OPEN_STATUSES = (Status.BOT, Status.QUEUED, Status.ASSIGNED)

    inbox = models.ForeignKey(
        Inbox, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("inbox")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOT
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
    )
    # The seq of the newest message; the next message gets last_seq + 1 under a row lock.
    last_seq = models.PositiveIntegerField(_("last message #"), default=0)
    # Read receipts: the newest seq each side has seen.
    contact_last_read_seq = models.PositiveIntegerField(
        _("read by the customer up to #"), default=0
    )
    agent_last_read_seq = models.PositiveIntegerField(_("read by agents up to #"), default=0)
    handoff_reason = models.CharField(_("handoff reason"), max_length=200, blank=True)
    # The pre-chat form's answers, by field key (helpdesk/widget/prechat.py).
    details = models.JSONField(_("pre-chat answers"), default=dict, blank=True)
    # Left by a customer when nobody could answer (offline form, or no agent after a handoff):
    # an agent follows up by e-mail.
    follow_up = models.BooleanField(_("follow up by e-mail"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["bot", "queued", "assigned", "resolved"]),
                name="conversation_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(assignee__isnull=False),
                name="conversation_assigned_has_assignee",
            ),
        ]
        indexes = [
            # Console lists: by status, newest activity first.
            models.Index(fields=["tenant", "status", "-last_message_at"]),
            # "Mine": an agent's open conversations.
            models.Index(fields=["tenant", "assignee", "status"]),
            # The queue, longest waiting first.
            models.Index(fields=["tenant", "status", "queued_at"]),
            # A contact's past conversations.
            models.Index(fields=["tenant", "contact", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.contact} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def customer_language(self) -> str:
        """The language the helpdesk writes to this customer in, also from a worker or a
        socket where no request chose one: their widget's, else the inbox's, else the site's."""
        return supported_language(self.contact.language or self.inbox.language)


class Message(TenantOwned):
    class SenderType(models.TextChoices):
        CONTACT = "contact", _("Customer")
        BOT = "bot", _("Bot")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NOTE = "note", _("Private note")
        EVENT = "event", _("Event")

    class State(models.TextChoices):
        STREAMING = "streaming", _("Streaming")
        COMPLETE = "complete", _("Complete")
        INTERRUPTED = "interrupted", _("Interrupted")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    seq = models.PositiveIntegerField(_("number"))
    client_id = models.CharField(_("client ID"), max_length=64)
    sender_type = models.CharField(_("sender"), max_length=10, choices=SenderType.choices)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(_("text"))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.COMPLETE
    )
    # Not auto_now_add: message_post stamps the message and its conversation with one instant.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["conversation", "seq"]
        constraints = [
            # Also the index behind messages_after(): (conversation, seq > n) ordered by seq.
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "client_id"], name="message_client_id_unique"
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="message_seq_positive"),
            models.CheckConstraint(
                condition=Q(sender_type__in=["contact", "bot", "agent", "system"]),
                name="message_sender_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["text", "note", "event"]), name="message_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["streaming", "complete", "interrupted"]),
                name="message_state_valid",
            ),
            # Customers never write private notes.
            models.CheckConstraint(
                condition=~Q(kind="note") | Q(sender_type="agent"),
                name="message_note_from_agent",
            ),
            models.CheckConstraint(condition=~Q(client_id=""), name="message_client_id_not_empty"),
        ]
        indexes = [
            # The sweep for replies whose worker died (helpdesk/ai/reply_leases.py): only the
            # few messages streaming right now, however large the table grows.
            models.Index(
                fields=["updated_at"],
                condition=Q(state="streaming"),
                name="message_streaming_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.sender_type}: {self.text[:40]}"

    @property
    def is_private(self) -> bool:
        return self.kind == self.Kind.NOTE


class RetentionPolicy(TenantOwned):
    """How long a tenant keeps resolved conversations, and what then happens to them
    (helpdesk/conversations/retention.py)."""

    class Action(models.TextChoices):
        DELETE = "delete", _("Delete them with their messages")
        ANONYMISE = "anonymise", _("Keep the figures, remove the texts and the customer's details")

    resolved_for_days = models.PositiveIntegerField(
        _("keep resolved conversations for (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Counted from when a conversation was resolved; open ones are never touched."),
    )
    action = models.CharField(
        _("then"), max_length=10, choices=Action.choices, default=Action.DELETE
    )
    last_applied_at = models.DateTimeField(_("last applied"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="retention_policy_once_per_tenant"),
            models.CheckConstraint(
                condition=Q(action__in=["delete", "anonymise"]), name="retention_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_action_display())


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the customer's file name (it is kept in ``name``): a random name per file.
    return f"attachments/t{instance.tenant_id}/{uuid.uuid4().hex}"


class Attachment(TenantOwned):
    """A file sent in a conversation (helpdesk/conversations/attachments.py). Uploaded first,
    then sent with a message; one never sent is swept after a day."""

    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    # Who uploaded it: a customer (their contact) or an agent.
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("contact"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file = models.FileField(
        _("file"), upload_to=attachment_path, storage=attachment_storage, max_length=200
    )
    # Images only: a small re-encoded copy for the message list.
    thumbnail = models.FileField(
        _("thumbnail"),
        upload_to=attachment_path,
        storage=attachment_storage,
        max_length=200,
        blank=True,
    )
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(uploaded_by__isnull=False),
                name="attachment_has_uploader",
            ),
        ]
        indexes = [
            # The sweep for uploads never sent.
            models.Index(
                fields=["created_at"], condition=Q(message__isnull=True), name="attachment_unsent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Rating(TenantOwned):
    """A customer's satisfaction with a resolved conversation; one per conversation."""

    class Scale(models.TextChoices):
        FIVE = "five", _("1 to 5 stars")
        THUMBS = "thumbs", _("Thumbs up or down")

    conversation = models.OneToOneField(
        Conversation,
        on_delete=models.CASCADE,
        related_name="rating",
        verbose_name=_("conversation"),
    )
    # 1-5; thumbs are stored as 1 (down) or 5 (up), so one CSAT (4 or 5) covers both scales.
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    # Who answered: the agent assigned when it was resolved, else the inbox's bot.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    bot = models.ForeignKey(
        "ai.BotConfig",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bot"),
    )
    created_at = models.DateTimeField(_("rated"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_range"
            ),
            models.CheckConstraint(
                condition=Q(scale__in=["five", "thumbs"]), name="rating_scale_valid"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.score}"

    @property
    def satisfied(self) -> bool:
        return self.score >= 4
