"""The knowledge sources admin: add a file or a web page (or a sitemap's pages), watch it being
read, re-sync it, delete it with its chunks.

Article sources are listed too, read-only: they are made and changed through their articles.
Everything that changes a source goes through ``sources.py``; this file only shows and asks.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.ai.knowledge.extract import SourceError
from helpdesk.ai.knowledge.fetch import MAX_URL_LENGTH, url_check_address, url_validate
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.sources import (
    source_create_file,
    source_create_url,
    source_rename,
    source_resync,
    sources_delete,
    upload_check,
)
from helpdesk.tenants.admin_base import TenantConsistentForm, TenantScopedAdmin, ids_by_tenant

# The change page lists this many chunks; a large PDF has thousands.
CHUNKS_SHOWN = 200
CHUNK_PREVIEW_CHARS = 200


class SourceAddForm(TenantConsistentForm):
    """A file to upload, or a URL (a page, or a sitemap of pages): exactly one of the two."""

    upload = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("A PDF, HTML, Markdown or plain-text file."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.html,.htm,.md,.markdown,.txt,application/pdf,text/*"}
        ),
    )
    page_url = forms.CharField(
        label=_("URL"),
        required=False,
        max_length=MAX_URL_LENGTH,
        help_text=_("http:// or https://"),
    )
    sitemap = forms.BooleanField(
        label=_("This URL is a sitemap: read every page it lists"), required=False
    )

    class Meta:
        model = KnowledgeSource
        fields = ["tenant", "title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = _("Empty: the file's name, or the page's title.")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        url = (cleaned.get("page_url") or "").strip()
        if bool(upload) == bool(url):
            raise ValidationError(_("Upload a file or give a URL: one of the two."), code="one")
        if cleaned.get("sitemap") and not url:
            self.add_error("sitemap", _("Only a URL can be a sitemap."))
        try:
            if upload:
                upload_check(upload)
            else:
                cleaned["page_url"] = url_validate(url)
                url_check_address(url)
        except SourceError as error:
            self.add_error("upload" if upload else "page_url", error.message)
        return cleaned

    def create_source(self) -> KnowledgeSource:
        tenant = self.instance.tenant
        title = self.cleaned_data.get("title") or ""
        if self.cleaned_data.get("upload"):
            return source_create_file(
                tenant=tenant, uploaded_file=self.cleaned_data["upload"], title=title
            )
        return source_create_url(
            tenant=tenant,
            url=self.cleaned_data["page_url"],
            sitemap=self.cleaned_data["sitemap"],
            title=title,
        )


@admin.register(KnowledgeSource)
class KnowledgeSourceAdmin(TenantScopedAdmin):
    list_display = ["title", "kind", "state_progress", "chunk_count", "error_summary", "updated_at"]
    list_filter = ["kind", "state"]
    search_fields = ["title", "url"]
    ordering = ["-updated_at"]
    actions = ["resync"]
    add_fields = ["tenant", "title", "upload", "page_url", "sitemap"]
    fields = [
        "tenant",
        "title",
        "kind",
        "url",
        "stored_file",
        "content_type",
        "byte_size",
        "page_count",
        "state",
        "progress",
        "chunk_count",
        "error",
        "created_at",
        "updated_at",
        "indexed_at",
        "chunk_list",
    ]
    # The title is all that may be changed here; the job writes the rest. The tenant too stays:
    # the chunks carry it.
    readonly_fields = [name for name in fields if name != "title"]

    def get_fields(self, request, obj=None):
        fields = self.add_fields if obj is None else self.fields
        # As TenantScopedAdmin: the tenant is shown to superusers only.
        return [name for name in fields if request.user.is_superuser or name != "tenant"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SourceAddForm
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _is_article(obj)

    # Adding calls the services, which store the source and enqueue its ingestion; the admin's
    # own save would store a bare row.
    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        return form.create_source()

    def save_model(self, request, obj, form, change):
        if change:
            source_rename(tenant=obj.tenant, source_id=obj.pk, title=obj.title)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        sources_delete(tenant=obj.tenant, source_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        for tenant, ids in ids_by_tenant(queryset).items():
            sources_delete(tenant=tenant, source_ids=ids)

    def get_deleted_objects(self, objs, request):
        """The sources and how many chunks go with them; Django's own list would name every
        chunk, thousands of lines for one PDF.

        An article source cannot go from here: it is listed as protected. (Not by a delete
        permission: Django asks for that one when the article itself is deleted, and would
        refuse that too.)"""
        sources = list(objs)
        articles = [str(source) for source in sources if _is_article(source)]
        if articles:
            return [], {}, set(), articles
        chunks = KnowledgeChunk.objects.filter(
            tenant_id__in={source.tenant_id for source in sources}, source__in=sources
        ).count()
        counts = {model_ngettext(KnowledgeSource, len(sources)): len(sources)}
        if chunks:
            counts[ngettext("chunk", "chunks", chunks)] = chunks
        return [str(source) for source in sources], counts, set(), []

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            # Django's action, with its confirmation page; it deletes through delete_queryset.
            function, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (function, name, _("Delete (with chunks)"))
        return actions

    @admin.action(description=_("Re-sync"), permissions=["change"])
    def resync(self, request, queryset):
        articles = queryset.filter(kind=KnowledgeSource.Kind.ARTICLE).count()
        count = 0
        for tenant, ids in ids_by_tenant(
            queryset.exclude(kind=KnowledgeSource.Kind.ARTICLE)
        ).items():
            for source_id in ids:
                source_resync(tenant=tenant, source_id=source_id)
                count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d source will be read again.",
                "%(count)d sources will be read again.",
                count,
            )
            % {"count": count},
        )
        if articles:
            self.message_user(
                request,
                ngettext(
                    "%(count)d article source was skipped: it is updated when its article is "
                    "saved.",
                    "%(count)d article sources were skipped: they are updated when their "
                    "articles are saved.",
                    articles,
                )
                % {"count": articles},
            )

    @admin.display(description=_("state"), ordering="state")
    def state_progress(self, obj: KnowledgeSource) -> str:
        if obj.state == KnowledgeSource.State.RUNNING:
            return f"{obj.get_state_display()} ({obj.progress}%)"
        return obj.get_state_display()

    @admin.display(description=_("error"))
    def error_summary(self, obj: KnowledgeSource) -> str:
        if len(obj.error) <= 120:
            return obj.error
        return obj.error[:120] + "…"

    @admin.display(description=_("file"))
    def stored_file(self, obj: KnowledgeSource) -> str:
        # The name only: uploaded files are read by jobs, never served, so a link would 404.
        return obj.file.name or "—"

    @admin.display(description=_("chunks"))
    def chunk_list(self, obj: KnowledgeSource) -> str:
        chunks = KnowledgeChunk.objects.filter(tenant_id=obj.tenant_id, source=obj).order_by(
            "position"
        )
        shown = list(chunks.values_list("position", "heading", "url", "text")[:CHUNKS_SHOWN])
        if not shown:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td></tr>",
            (
                (position, heading or "—", url, _preview(text))
                for position, heading, url, text in shown
            ),
        )
        more = obj.chunk_count - len(shown)
        return format_html(
            "<table><thead><tr><th>#</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>{}",
            _("heading"),
            _("text"),
            rows,
            format_html("<p>{}</p>", _("… and %(count)s more") % {"count": more})
            if more > 0
            else "",
        )


def _preview(text: str) -> str:
    if len(text) <= CHUNK_PREVIEW_CHARS:
        return text
    return text[:CHUNK_PREVIEW_CHARS] + "…"


def _is_article(source: KnowledgeSource | None) -> bool:
    return source is not None and source.kind == KnowledgeSource.Kind.ARTICLE
