"""Knowledge sources and their chunks. Registered in the ai app (helpdesk/ai/models.py imports
this module), so they live in its migrations.

Every source gets a row of its own, articles included: chunks then always point at a source,
whatever its kind, so retrieval, citations and "delete a source, delete its chunks" work the
same for an article, an uploaded file or a web page, and the admin shows one list with one
state column. Each kind has its own field: ``article``, ``file`` or ``url``.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.ai.validators import validate_endpoint
from helpdesk.core.crypto import decrypt, encrypt
from helpdesk.tenants.models import TenantOwned


class KnowledgeSource(TenantOwned):
    """Something a tenant's bot may answer from, with the state of its ingestion."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Knowledge article")
        FILE = "file", _("Uploaded file")
        URL = "url", _("Web page")
        SITEMAP = "sitemap", _("Web pages of a sitemap")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    # Words that find every chunk of the source without being part of its text (an article's
    # keywords; later, a page's meta keywords).
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    article = models.OneToOneField(
        "ai.KnowledgeArticle",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="knowledge_source",
        verbose_name=_("article"),
    )
    file = models.FileField(_("file"), upload_to="knowledge/%Y/%m/", max_length=300, blank=True)
    url = models.CharField(_("URL"), max_length=2000, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    byte_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    page_count = models.PositiveIntegerField(_("pages"), default=0)
    # The ingestion job that may write this source's chunks: a re-sync issues a new token, and
    # a job holding an older one (still running, or redelivered) stops without writing.
    ingest_token = models.UUIDField(_("ingestion token"), default=uuid.uuid4, editable=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    indexed_at = models.DateTimeField(_("indexed"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge source")
        verbose_name_plural = _("knowledge sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["article", "file", "url", "sitemap"]),
                name="knowledgesource_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "ready", "failed"]),
                name="knowledgesource_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="knowledgesource_progress_range"
            ),
            models.CheckConstraint(
                condition=(Q(kind="article") & Q(article__isnull=False))
                | (~Q(kind="article") & Q(article__isnull=True)),
                name="knowledgesource_article_iff_kind_article",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["url", "sitemap"]) & ~Q(url=""))
                | (~Q(kind__in=["url", "sitemap"]) & Q(url="")),
                name="knowledgesource_url_iff_kind_web",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "state"])]

    def __str__(self) -> str:
        return self.title


class KnowledgeChunk(TenantOwned):
    """A passage of a source, the unit that retrieval ranks and a reply cites.

    ``tenant`` repeats the source's so that every query filters on its own column, never
    through a join that a mistake could drop.
    """

    source = models.ForeignKey(
        KnowledgeSource,
        on_delete=models.CASCADE,
        related_name="chunks",
        verbose_name=_("knowledge source"),
    )
    position = models.PositiveIntegerField(_("position"))
    heading = models.CharField(_("heading"), max_length=500, blank=True)
    # Where the passage can be read: a sitemap source's page; empty for the others (a citation
    # then points at the source itself).
    url = models.CharField(_("URL"), max_length=2000, blank=True)
    text = models.TextField(_("text"))
    token_count = models.PositiveIntegerField(_("tokens"))
    # The chunk's embedding, when the tenant has an embeddings endpoint: float32, little-endian,
    # as raw bytes. Four bytes a dimension (JSON takes three to five times that and must be
    # parsed), read into numpy without copying (numpy.frombuffer), the same on SQLite and
    # PostgreSQL; a pgvector column can replace it where that extension is installed.
    embedding = models.BinaryField(_("embedding"), null=True, blank=True, editable=False)
    # The model that made ``embedding``: a tenant that changes model ignores the old vectors
    # until they are made again.
    embedding_model = models.CharField(_("embeddings model"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("knowledge chunk")
        verbose_name_plural = _("knowledge chunks")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "position"], name="knowledgechunk_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.position}"


class KnowledgeSettings(TenantOwned):
    """How a tenant's knowledge is searched: the optional embeddings endpoint for dense
    retrieval. Without a model here, retrieval is lexical (BM25) alone."""

    embeddings_base_url = models.CharField(
        _("embeddings endpoint"),
        max_length=500,
        blank=True,
        validators=[validate_endpoint],
        help_text=_(
            "An OpenAI-compatible /v1 endpoint with /embeddings: OpenAI, vLLM, Ollama, "
            "llama.cpp. Empty: OPENAI_BASE_URL, else OpenAI."
        ),
    )
    embeddings_api_key_encrypted = models.TextField(
        _("encrypted API key"), blank=True, editable=False
    )
    embeddings_model = models.CharField(
        _("embeddings model"),
        max_length=100,
        blank=True,
        help_text=_("E.g. text-embedding-3-small. Empty: lexical search only."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge settings")
        verbose_name_plural = _("knowledge settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="knowledgesettings_one_per_tenant")
        ]

    def __str__(self) -> str:
        return str(self.embeddings_model or _("lexical search only"))

    @property
    def embeddings_api_key(self) -> str:
        return decrypt(self.embeddings_api_key_encrypted)

    @embeddings_api_key.setter
    def embeddings_api_key(self, value: str) -> None:
        self.embeddings_api_key_encrypted = encrypt(value)
