from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpdesk.console.access import console_membership, console_page
from helpdesk.console.forms import ConsoleAuthenticationForm
from helpdesk.console.selectors import console_agents
from helpdesk.conversations.attachments import MB, PER_MESSAGE_MAX
from helpdesk.conversations.handoff_reasons import reason_wordings
from helpdesk.conversations.selectors import CONSOLE_VIEWS
from helpdesk.core.errors import InvalidInput
from helpdesk.core.filetypes import KNOWN_TYPES
from helpdesk.core.http import error_json
from helpdesk.core.javascript_catalog import javascript_catalog
from helpdesk.core.languages import spoken_language
from helpdesk.core.login_throttle import throttled
from helpdesk.tenants.access import display_name
from helpdesk.tenants.languages import language_save, remember_language
from helpdesk.tenants.models import Membership


@require_GET
@never_cache
@console_page
def console(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The console page. Everything on it is loaded by console.js from the API and socket."""
    user = membership.user
    bootstrap = {
        "agent": {
            "id": user.pk,
            "name": display_name(user),
            "role": membership.role,
            "availability": membership.availability,
        },
        "tenant": {"name": membership.tenant.name},
        "agents": console_agents(tenant=membership.tenant),
        "views": list(CONSOLE_VIEWS),
        "messageMaxChars": settings.MESSAGE_MAX_CHARS,
        "urls": {
            "conversations": reverse("console:api_conversations"),
            "canned": reverse("console:api_canned"),
            "agents": reverse("console:api_agents"),
            "login": reverse("console:login"),
            "socket": "/ws/console/",
        },
        # The console's POSTs (agent assist) send it back in an X-CSRFToken header.
        "csrfToken": get_token(request),
        "assist": {"chunks": reverse("console:api_knowledge_chunks")},
        # The request's language (LocaleMiddleware) and the console's translations for it.
        "language": translation.get_language(),
        "i18n": javascript_catalog(language=translation.get_language()),
        "handoffReasons": reason_wordings(),
        # What an agent may attach (checked again by the server: console/attachments.py).
        "attachments": {
            "upload": reverse("console:api_attachments"),
            "types": list(KNOWN_TYPES),
            "max_bytes": settings.ATTACHMENT_AGENT_MAX_MB * MB,
            "per_message": PER_MESSAGE_MAX,
            "notes": True,
        },
    }
    return render(
        request,
        "console/console.html",
        {
            "bootstrap": bootstrap,
            "membership": membership,
            "agent_name": display_name(user),
            "availability_choices": Membership.Availability.choices,
        },
    )


@require_POST
@console_page
def language_switch(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The console's language switch (``language``: a code of LANGUAGES, or empty for the
    browser's), saved for the user, then back to the page it was made on."""
    wanted = request.POST.get("language", "")
    language = spoken_language(wanted) if wanted else ""
    if wanted and language != wanted:
        return error_json(
            InvalidInput(gettext("Choose one of the languages offered."), field="language")
        )
    language_save(request=request, membership=membership, language=language)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("console:index")
    response = HttpResponseRedirect(back)
    remember_language(response, language)
    return response


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = ConsoleAuthenticationForm
    next_page = reverse_lazy("console:index")

    def get(self, request, *args, **kwargs):
        # Someone who is already in goes straight to the console; a signed-in user without
        # access stays here, so they can sign in as someone else.
        if console_membership(request) is not None:
            return HttpResponseRedirect(self.get_success_url())
        return super().get(request, *args, **kwargs)

    def form_invalid(self, form):
        return throttled(self.request, super().form_invalid(form))


class ConsoleLogoutView(auth_views.LogoutView):
    # Django's LogoutView only accepts POST, so a link on another site cannot sign agents out.
    next_page = reverse_lazy("console:login")
