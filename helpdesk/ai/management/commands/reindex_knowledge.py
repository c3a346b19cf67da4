"""``manage.py reindex_knowledge --tenant SLUG`` (or ``--all``): rebuild knowledge chunks.

Run it once after upgrading to a version with knowledge chunks (articles written before then
have none), or to repair a tenant's chunks. Safe to run again: it replaces, never adds.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from helpdesk.ai.knowledge.services import tenant_reindex
from helpdesk.ai.management.tenant_choice import add_tenant_arguments, chosen_tenants


class Command(BaseCommand):
    help = "Rebuild the knowledge chunks of a tenant's articles (or of every tenant's)."

    def add_arguments(self, parser):
        add_tenant_arguments(parser)

    def handle(self, *args, tenant=None, all=False, **options):  # noqa: A002 - the option's name
        tenants = chosen_tenants(tenant, all)
        for each in tenants:
            chunks = tenant_reindex(tenant=each)
            self.stdout.write(
                ngettext("%(slug)s: %(count)d chunk", "%(slug)s: %(count)d chunks", chunks)
                % {"slug": each.slug, "count": chunks}
            )
