"""``manage.py reembed_knowledge --tenant SLUG`` (or ``--all``): store the vectors a tenant's
chunks lack for its current embeddings model, now, and say how many.

Saving a tenant's knowledge settings starts the same work as a job; this is for an operator
who wants it done and reported (after an upgrade, or an endpoint that failed for a while).
``--force`` embeds every chunk again: the endpoint changed but the model's name did not.
Safe to run again; an endpoint that fails is reported and the command exits with an error.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from helpdesk.ai.knowledge.embeddings import EmbeddingsError
from helpdesk.ai.knowledge.services import chunks_embed
from helpdesk.ai.management.tenant_choice import add_tenant_arguments, chosen_tenants


class Command(BaseCommand):
    help = "Embed the knowledge chunks of a tenant (or of every tenant) with its current model."

    def add_arguments(self, parser):
        add_tenant_arguments(parser)
        parser.add_argument(
            "--force", action="store_true", help="embed chunks that have a vector again"
        )

    def handle(self, *args, tenant=None, all=False, force=False, **options):  # noqa: A002
        tenants = chosen_tenants(tenant, all)
        failed = []
        for each in tenants:
            try:
                stored = chunks_embed(tenant=each, force=force)
            except EmbeddingsError as error:
                failed.append(each.slug)
                self.stderr.write(f"{each.slug}: {error}")
                continue
            self.stdout.write(
                ngettext(
                    "%(slug)s: %(count)d chunk embedded",
                    "%(slug)s: %(count)d chunks embedded",
                    stored,
                )
                % {"slug": each.slug, "count": stored}
            )
        if failed:
            raise CommandError(
                gettext("The embeddings endpoint failed for %(slugs)s; run again once it answers.")
                % {"slugs": ", ".join(failed)}
            )
