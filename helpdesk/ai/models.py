from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.ai.validators import validate_endpoint
from helpdesk.core.crypto import decrypt, encrypt
from helpdesk.tenants.models import TenantOwned

DEFAULT_HANDOFF_KEYWORDS = "人工\n转人工\n人工客服\nhuman\nagent\nreal person"


class BotConfig(TenantOwned):
    """How a tenant's bot answers: which provider, which model, what context, what limits."""

    class Provider(models.TextChoices):
        OPENAI = "openai", _("OpenAI-compatible API")
        FAQ = "faq", _("FAQ (the tenant's knowledge articles, no API)")

    name = models.CharField(_("name"), max_length=100, default="Bot")
    provider = models.CharField(
        _("provider"), max_length=10, choices=Provider.choices, default=Provider.FAQ
    )
    # Not a URLField: Django's URL check refuses single-label hosts, and self-hosted models
    # live at exactly such names (http://vllm:8000/v1 in Compose or Kubernetes).
    base_url = models.CharField(
        _("base URL"),
        max_length=500,
        blank=True,
        validators=[validate_endpoint],
        help_text=_(
            "OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or a vLLM, "
            "llama.cpp or Ollama server's /v1. Empty: OPENAI_BASE_URL, else OpenAI."
        ),
    )
    api_key_encrypted = models.TextField(_("encrypted API key"), blank=True, editable=False)
    model = models.CharField(_("model"), max_length=100, blank=True, default="gpt-4o-mini")
    system_prompt = models.TextField(
        _("system prompt"),
        blank=True,
        default="You are a friendly, concise customer-service assistant. Answer in the "
        "customer's language. If you cannot help, offer to pass them to a human.",
    )
    context_turns = models.PositiveSmallIntegerField(
        _("context rounds"),
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text=_("How many recent rounds (a customer message and its answer) the bot sees."),
    )
    context_token_budget = models.PositiveIntegerField(
        _("context token budget"),
        default=3000,
        validators=[MinValueValidator(200), MaxValueValidator(200_000)],
        help_text=_("Most prompt tokens sent; the oldest turns are dropped to fit."),
    )
    max_tokens = models.PositiveIntegerField(
        _("maximum reply tokens"),
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(32_000)],
    )
    temperature = models.FloatField(
        _("temperature"),
        default=0.3,
        validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
    )
    streaming = models.BooleanField(_("streaming"), default=True)
    batch_window_ms = models.PositiveIntegerField(
        _("batch window (ms)"),
        default=600,
        validators=[MaxValueValidator(10_000)],
        help_text=_("Customer messages arriving within this window get one answer."),
    )
    delta_interval_ms = models.PositiveIntegerField(
        _("streaming interval (ms)"),
        default=50,
        validators=[MinValueValidator(10), MaxValueValidator(2000)],
        help_text=_("How often streamed text is sent to screens (never once per token)."),
    )
    handoff_keywords = models.TextField(
        _("handoff keywords"),
        blank=True,
        default=DEFAULT_HANDOFF_KEYWORDS,
        help_text=_("One per line. A customer message containing one goes to a human."),
    )
    fallback_message = models.TextField(
        _("fallback message"),
        blank=True,
        help_text=_(
            "Said when the model cannot answer, before a human takes over. Empty: the built-in "
            "text in the customer's language (change it per language under Built-in texts)."
        ),
    )
    knowledge_chunks = models.PositiveSmallIntegerField(
        _("knowledge passages"),
        default=4,
        validators=[MaxValueValidator(20)],
        help_text=_(
            "How many passages of the tenant's knowledge the bot reads before it answers (0: none)."
        ),
    )
    answer_only_from_knowledge = models.BooleanField(
        _("answer only from knowledge"),
        default=False,
        help_text=_(
            "When nothing relevant is found in the knowledge, say so and offer a human "
            "instead of answering from the model's own knowledge."
        ),
    )
    no_knowledge_message = models.TextField(
        _("no-knowledge message"),
        blank=True,
        help_text=_(
            "Said when nothing in the knowledge answers, before a human takes over. Empty: the "
            "built-in text in the customer's language (change it per language under Built-in "
            "texts)."
        ),
    )
    request_timeout_seconds = models.FloatField(
        _("request timeout (seconds)"),
        default=30.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(300.0)],
    )
    max_retries = models.PositiveSmallIntegerField(
        _("retries"),
        default=2,
        validators=[MaxValueValidator(5)],
        help_text=_("Retries before falling back."),
    )
    breaker_failure_threshold = models.PositiveSmallIntegerField(
        _("failures before pausing"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Consecutive failures after which the endpoint is not called for a while."),
    )
    breaker_cooldown_seconds = models.PositiveIntegerField(
        _("pause after failures (seconds)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bot")
        verbose_name_plural = _("bots")
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__in=["openai", "faq"]), name="botconfig_provider_valid"
            ),
            models.CheckConstraint(
                condition=Q(temperature__gte=0) & Q(temperature__lte=2),
                name="botconfig_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def clean(self) -> None:
        # A bot that must answer from knowledge but reads no passage hands every customer to
        # a human. Here rather than in the admin form: the demo and the TOML import save bots.
        reads_knowledge = self.provider == self.Provider.FAQ or self.answer_only_from_knowledge
        if reads_knowledge and self.knowledge_chunks == 0:
            raise ValidationError(
                {
                    "knowledge_chunks": _(
                        "An FAQ bot, or a bot that answers only from knowledge, must read at "
                        "least one passage."
                    )
                }
            )

    @property
    def api_key(self) -> str:
        return decrypt(self.api_key_encrypted)

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_key_encrypted = encrypt(value)

    @property
    def handoff_keyword_list(self) -> list[str]:
        return [k.strip() for k in self.handoff_keywords.splitlines() if k.strip()]


class KnowledgeArticle(TenantOwned):
    """A question the FAQ bot can answer, with the words customers use to ask it."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(
        _("keywords"),
        max_length=500,
        blank=True,
        help_text=_("Extra words or phrases, separated by commas."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [models.Index(fields=["tenant", "is_active"])]

    def __str__(self) -> str:
        return self.question


class TokenUsage(TenantOwned):
    """Tokens one call to the tenant's model cost, from the API's own count when it gives one:
    a bot reply (with its message), or an agent's suggested reply or summary (with the agent)."""

    class Purpose(models.TextChoices):
        REPLY = "reply", _("Bot reply")
        SUGGESTION = "suggestion", _("Suggested reply")
        SUMMARY = "summary", _("Conversation summary")

    class Source(models.TextChoices):
        API = "api", _("Reported by the API")
        COUNTED = "counted", _("Counted with tiktoken")

    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("conversation"),
    )
    message = models.OneToOneField(
        "conversations.Message",
        on_delete=models.CASCADE,
        related_name="token_usage",
        null=True,
        blank=True,
        verbose_name=_("message"),
    )
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.REPLY
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    model = models.CharField(_("model"), max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"))
    completion_tokens = models.PositiveIntegerField(_("completion tokens"))
    source = models.CharField(_("counted by"), max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("token usage")
        verbose_name_plural = _("token usages")
        indexes = [models.Index(fields=["tenant", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["reply", "suggestion", "summary"]),
                name="tokenusage_purpose_valid",
            ),
            # A bot reply is counted against its message; assist calls have none.
            models.CheckConstraint(
                condition=~Q(purpose="reply") | Q(message__isnull=False),
                name="tokenusage_reply_has_message",
            ),
        ]

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ConversationSummary(TenantOwned):
    """A short summary of a conversation, written by the tenant's model for the agent who
    receives it (a handoff or a transfer) and shown above its messages in the console."""

    class Trigger(models.TextChoices):
        HANDOFF = "handoff", _("Handoff")
        TRANSFER = "transfer", _("Transfer")
        REQUESTED = "requested", _("Asked for by an agent")

    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("conversation"),
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    # The last message the summary covers: a summary of an older state is shown as such.
    up_to_seq = models.PositiveIntegerField(_("up to message #"))
    text = models.TextField(_("text"))
    model = models.CharField(_("model"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation summary")
        verbose_name_plural = _("conversation summaries")
        indexes = [models.Index(fields=["tenant", "conversation", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=["handoff", "transfer", "requested"]),
                name="conversationsummary_trigger_valid",
            )
        ]

    def __str__(self) -> str:
        return gettext("Summary of conversation #%(conversation)s up to message #%(seq)s") % {
            "conversation": self.conversation_id,
            "seq": self.up_to_seq,
        }


# Knowledge sources and chunks live in their own module; importing them here registers them in
# this app.
from helpdesk.ai.knowledge.models import (  # noqa: E402
    KnowledgeChunk,
    KnowledgeSettings,
    KnowledgeSource,
)

__all__ = [
    "BotConfig",
    "ConversationSummary",
    "KnowledgeArticle",
    "KnowledgeChunk",
    "KnowledgeSettings",
    "KnowledgeSource",
    "TokenUsage",
]
