"""Who calls: an API key in ``Authorization: Bearer hdk_…``; what it may do: its scope."""

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.security import HttpBearer

from helpdesk.api.keys import api_key_authenticate
from helpdesk.api.models import ApiKey
from helpdesk.core.errors import PermissionDenied


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key made in the admin (API keys): `Authorization: Bearer hdk_…`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = api_key_authenticate(token)
        if key is not None:
            request.api_key = key
        return key


def key_label(key: ApiKey) -> str:
    """How an API key's actions are recorded in the audit log."""
    return gettext("API key %(name)s (%(prefix)s…)") % {"name": key.name, "prefix": key.prefix}


def need(request: HttpRequest, scope: str) -> ApiKey:
    """The request's key, if its scope includes ``scope`` (403 ``forbidden`` otherwise)."""
    key: ApiKey = request.auth
    if not key.allows(scope):
        raise PermissionDenied(
            gettext("This API key's scope does not allow that (it needs %(scope)s).")
            % {"scope": scope}
        )
    return key
