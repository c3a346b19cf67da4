from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenants.models import TenantOwned


class ApiKey(TenantOwned):
    """A program's access to one tenant through the REST API, acting as the admin who made it.

    The key itself is shown once, when it is made; only its SHA-256 is kept (a random key of
    256 bits needs no slow hash), with a short prefix to find it and to tell keys apart.
    """

    class Scope(models.TextChoices):
        # Each scope includes the ones before it.
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")
        ADMIN = "admin", _("Read, write and delete")

    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        editable=False,
        verbose_name=_("acts as"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        order = list(self.Scope.values)
        return order.index(self.scope) >= order.index(scope)
