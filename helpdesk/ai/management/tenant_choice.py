"""The ``--tenant SLUG`` (repeatable) or ``--all`` choice of the knowledge commands."""

from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.utils.translation import gettext

from helpdesk.tenants.models import Tenant


def add_tenant_arguments(parser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", action="append", metavar="SLUG", help="repeatable")
    which.add_argument("--all", action="store_true", help="every tenant")


def chosen_tenants(slugs: list[str] | None, every: bool) -> QuerySet[Tenant]:
    """The tenants the options name, by slug; CommandError naming the slugs that match none."""
    tenants = Tenant.objects.order_by("slug")
    if every:
        return tenants
    tenants = tenants.filter(slug__in=slugs)
    missing = set(slugs) - {tenant.slug for tenant in tenants}
    if missing:
        raise CommandError(
            gettext("No tenant with the slug %(slugs)s.") % {"slugs": ", ".join(sorted(missing))}
        )
    return tenants
