from celery import shared_task
from django.core.cache import cache

from helpdesk.tenants.models import Tenant


@shared_task(name="tests.remember_tenant_name")
def remember_tenant_name(key: str, tenant_id: int) -> None:
    """Reads committed data and leaves a trace in the shared cache, wherever it runs."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    cache.set(key, tenant.name if tenant else "<missing>", timeout=300)
