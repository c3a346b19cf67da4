"""``manage.py reindex_knowledge --tenant SLUG`` (or ``--all``): rebuild knowledge chunks.

Run it once after upgrading to a version with knowledge chunks (articles written before then
have none), or to repair a tenant's chunks. Safe to run again: it replaces, never adds.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from helpdesk.ai.knowledge.services import tenant_reindex
from helpdesk.tenants.models import Tenant


class Command(BaseCommand):
    help = "Rebuild the knowledge chunks of a tenant's articles (or of every tenant's)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", action="append", metavar="SLUG", help="repeatable")
        which.add_argument("--all", action="store_true", help="every tenant")

    def handle(self, *args, tenant=None, all=False, **options):  # noqa: A002 - the option's name
        tenants = Tenant.objects.order_by("slug")
        if not all:
            tenants = tenants.filter(slug__in=tenant)
            missing = set(tenant) - {t.slug for t in tenants}
            if missing:
                raise CommandError(
                    gettext("No tenant with the slug %(slugs)s.")
                    % {"slugs": ", ".join(sorted(missing))}
                )
        for each in tenants:
            chunks = tenant_reindex(tenant=each)
            self.stdout.write(
                ngettext("%(slug)s: %(count)d chunk", "%(slug)s: %(count)d chunks", chunks)
                % {"slug": each.slug, "count": chunks}
            )
