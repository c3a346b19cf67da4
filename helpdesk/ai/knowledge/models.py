"""Knowledge sources and their chunks. Registered in the ai app (helpdesk/ai/models.py imports
this module), so they live in its migrations.

Every source gets a row of its own, articles included: chunks then always point at a source,
whatever its kind, so retrieval, citations and "delete a source, delete its chunks" work the
same for an article, an uploaded file or a web page, and the admin shows one list with one
state column. A file or URL source will add its own fields (the file, the URL) next to
``article``.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.tenants.models import TenantOwned


class KnowledgeSource(TenantOwned):
    """Something a tenant's bot may answer from, with the state of its ingestion."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Knowledge article")
        FILE = "file", _("Uploaded file")
        URL = "url", _("Web page")

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
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    indexed_at = models.DateTimeField(_("indexed"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge source")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["article", "file", "url"]),
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
        ]
        indexes = [models.Index(fields=["tenant", "kind", "state"])]

    def __str__(self) -> str:
        return self.title


class KnowledgeChunk(TenantOwned):
    """A passage of a source, the unit that retrieval ranks and a reply cites.

    ``tenant`` repeats the source's so that every query filters on its own column, never
    through a join that a mistake could drop.
    """

    source = models.ForeignKey(KnowledgeSource, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    # The chunk's embedding, when the tenant has an embeddings endpoint: float32, little-endian,
    # as raw bytes. Four bytes a dimension (JSON takes three to five times that and must be
    # parsed), read into numpy without copying (numpy.frombuffer), the same on SQLite and
    # PostgreSQL; a pgvector column can replace it where that extension is installed.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "position"], name="knowledgechunk_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.position}"
