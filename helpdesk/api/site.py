"""The REST API, /api/v1/: its routes, and one error shape for every failure.

Every error answers ``{"error": {"code", "message"[, "field"][, "details"]}}`` with a stable
``code`` (docs/api.md lists them); the schema is served at /api/v1/openapi.json and browsed at
/api/v1/docs.
"""

from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from helpdesk.ai.knowledge.extract import SourceError
from helpdesk.api.auth import ApiKeyAuth
from helpdesk.api.routes import contacts, conversations, knowledge, reports, retention
from helpdesk.core.errors import (
    AuthenticationFailed,
    FrameTooLarge,
    InvalidInput,
    NotFound,
    ServiceError,
)
from helpdesk.core.http import answers_errors_with, error_json

api = NinjaAPI(
    title="Helpdesk API",
    version="1",
    description="The helpdesk's REST API. Every call needs an API key (admin → API keys).",
    auth=ApiKeyAuth(),
    urls_namespace="api",
)
api.add_router("/conversations", conversations.router)
api.add_router("/contacts", contacts.router)
api.add_router("/knowledge", knowledge.router)
api.add_router("", reports.router)
api.add_router("", retention.router)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, error: ServiceError) -> JsonResponse:
    return error_json(error)


@api.exception_handler(SourceError)
def source_error(request: HttpRequest, error: SourceError) -> JsonResponse:
    # A web source refused (invalid_url, private_address): the admin's message, its code.
    return JsonResponse({"error": {"code": error.code, "message": error.message, "field": "url"}},
                        status=400)  # fmt: skip


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> JsonResponse:
    response = error_json(
        AuthenticationFailed(gettext("Send a valid API key: Authorization: Bearer hdk_…"))
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, error: ValidationError) -> JsonResponse:
    problems = [
        {
            "field": ".".join(str(part) for part in problem.get("loc", ())[1:]),
            "message": str(problem.get("msg", "")),
        }
        for problem in error.errors
    ]
    body = {"code": InvalidInput.code, "message": gettext("The request is not valid.")}
    if problems and problems[0]["field"]:
        body["field"] = problems[0]["field"]
    return JsonResponse({"error": {**body, "details": problems}}, status=400)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> JsonResponse:
    return error_json(NotFound())


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, error: RequestDataTooBig) -> JsonResponse:
    return error_json(FrameTooLarge(gettext("The request body is too large.")))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": f"http_{error.status_code}", "message": str(error)}},
        status=error.status_code,
    )


def _refused(request: HttpRequest, error: ServiceError) -> JsonResponse:
    return error_json(error)


def _urls():
    """The API's URL patterns, each view marked so that a request refused before it runs (a
    NUL in the query, PostgreSQL down) is answered in the API's error shape too; a wrong method
    and an unknown path as well."""
    patterns, app_name, namespace = api.urls
    patterns = [_answering_errors(pattern) for pattern in patterns]
    patterns.append(re_path(r"^.*$", answers_errors_with(_refused)(_unknown_path)))
    return patterns, app_name, namespace


def _answering_errors(pattern):
    view = pattern.callback

    @wraps(view)
    def answering(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = JsonResponse(
                {
                    "error": {
                        "code": "method_not_allowed",
                        "message": gettext("Use %(methods)s.") % {"methods": allowed},
                    }
                },
                status=405,
            )
            response["Allow"] = allowed
        return response

    answers_errors_with(_refused)(answering)
    return path(str(pattern.pattern), answering, name=pattern.name)


def _unknown_path(request: HttpRequest) -> JsonResponse:
    return error_json(NotFound(gettext("There is no such API path.")))


urls = _urls()
