"""GET /widget/api/availability: is anyone there, and when a human is back (docs/widget.md)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import ServiceError
from helpdesk.widget.availability import AVAILABILITY_CACHE_SECONDS, availability_for_key
from helpdesk.widget.http import cross_origin, error_response, request_ip, request_origin


@cross_origin("GET")
async def availability(request: HttpRequest) -> HttpResponse:
    """``?inbox=KEY``: the inbox's ``options.hours`` as it stands now. Public (no token): the
    widget asks again when the bot hands off, to offer the follow-up form."""
    try:
        answer = await db_call(availability_for_key)(
            inbox_key=request.GET.get("inbox"),
            origin=request_origin(request),
            client_ip=request_ip(request),
        )
    except ServiceError as error:
        return error_response(error)
    response = JsonResponse(answer)
    response.origin_checked = True
    patch_cache_control(response, private=True, max_age=AVAILABILITY_CACHE_SECONDS)
    return response
