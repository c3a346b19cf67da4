"""An agent's or admin's own language: saved on their membership, chosen in the console, and
followed by the console and the admin before the browser's Accept-Language.

The choice is copied into the session at sign-in and when it changes, so a request reads it
with the session it loads anyway, never with a query of its own. A change made for someone else
in the admin applies from their next sign-in.
"""

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.decorators import sync_and_async_middleware

from helpdesk.core.languages import spoken_language
from helpdesk.tenants.models import Membership

SESSION_KEY = "helpdesk_language"


def language_save(*, request: HttpRequest, membership: Membership, language: str) -> None:
    """Save ``language`` (one of LANGUAGES, or "" for the browser's) as the user's choice."""
    membership.language = language
    membership.save(update_fields=["language"])
    request.session[SESSION_KEY] = language


def remember_language(response: HttpResponse, language: str) -> None:
    """Also in Django's language cookie: the sign-in page, before anyone is signed in, speaks
    the language last chosen in this browser."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


@receiver(user_logged_in, dispatch_uid="helpdesk.tenants.languages.signed_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    language = Membership.objects.filter(user=user).values_list("language", flat=True).first() or ""
    request.session[SESSION_KEY] = language


def _activate(request: HttpRequest, saved: object) -> None:
    language = spoken_language(saved)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


@sync_and_async_middleware
def SavedLanguageMiddleware(get_response):  # noqa: N802 - named like Django's middleware
    """After LocaleMiddleware and the session: the signed-in user's saved language wins."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            session = getattr(request, "session", None)
            if session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES:
                _activate(request, await session.aget(SESSION_KEY))
            return await get_response(request)

    else:

        def middleware(request):
            session = getattr(request, "session", None)
            if session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES:
                _activate(request, session.get(SESSION_KEY))
            return get_response(request)

    return middleware
