from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET

from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import ServiceError
from helpdesk.core.javascript_catalog import javascript_catalog
from helpdesk.core.languages import spoken_language, supported_language
from helpdesk.realtime.frames import parse_frame
from helpdesk.tenants.models import Inbox
from helpdesk.widget.http import cross_origin, error_response, request_ip, request_origin
from helpdesk.widget.options import widget_options
from helpdesk.widget.services import visitor_token_issue


@require_GET
def visitor_page(request: HttpRequest) -> HttpResponse:
    """A demo shop page that embeds the widget of the first active inbox; ``?locale=`` puts a
    ``data-locale`` on its tag, to try the widget in a language other than the browser's."""
    inbox = Inbox.objects.filter(is_active=True).order_by("pk").first()
    locale = spoken_language(request.GET.get("locale"))
    return render(request, "widget/visitor_page.html", {"inbox": inbox, "locale": locale})


@cross_origin("POST")
async def visitor_token(request: HttpRequest) -> HttpResponse:
    """Issue (or renew) the token a widget keeps in localStorage for its visitor."""
    try:
        body = parse_frame(request.body)
        issued = await db_call(visitor_token_issue)(
            inbox_key=body.get("inbox"),
            origin=request_origin(request),
            previous_token=body.get("token"),
            identity=body.get("identity"),
            client_ip=request_ip(request),
            locale=body.get("locale"),
            browser_languages=body.get("languages")
            or [
                code
                for code, _ in parse_accept_lang_header(request.headers.get("Accept-Language", ""))
            ],
        )
    except ServiceError as error:
        return error_response(error)
    response = JsonResponse(
        {
            "token": issued.token,
            "visitor": str(issued.visitor.contact.visitor_id),
            "expires_in": settings.VISITOR_TOKEN_MAX_AGE,
            "greeting": issued.greeting,
            "locale": issued.language,
            "options": {
                **await db_call(widget_options)(issued.visitor.inbox, language=issued.language),
                # Whether this visitor is a user the site vouched for (identify()).
                "identity": {"verified": bool(issued.visitor.contact.external_id)},
            },
        }
    )
    response.origin_checked = True
    return response


# Catalogs change only with a deploy; an hour keeps a new translation from waiting long.
CATALOG_MAX_AGE_SECONDS = 3600


@cross_origin("GET")
async def i18n_catalog(request: HttpRequest) -> HttpResponse:
    """The widget's translations for ``?locale=`` (zh-CN, zh-hans, en…): Django's JSON catalog
    with the language it is for. A language the helpdesk does not speak gets English, whose
    catalog is empty (the widget's own texts are English). The same for every inbox and page;
    which language a visitor gets is decided with their token (``widget_language``)."""
    language = supported_language(request.GET.get("locale"))
    response = JsonResponse({"locale": language, **javascript_catalog(language=language)})
    patch_cache_control(response, public=True, max_age=CATALOG_MAX_AGE_SECONDS)
    # The same answer for every page: any origin may read it, and a cache keeps one copy.
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Language"] = language
    return response
