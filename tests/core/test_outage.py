"""A view that fails because a service is down answers 503 with Retry-After, never a 500
(the widget's endpoints and sockets through a real Redis outage: tests/faults)."""

import json

import asyncpg
import kombu.exceptions
import pytest
import redis.exceptions
from django.db import OperationalError
from django.test import RequestFactory

from helpdesk.core.outage import OutageMiddleware, unavailable


@pytest.fixture
def middleware():
    return OutageMiddleware(lambda request: None)


@pytest.mark.parametrize(
    "exc",
    [
        redis.exceptions.ConnectionError("Error 111 connecting"),
        redis.exceptions.TimeoutError(),
        OperationalError("connection refused"),
        kombu.exceptions.OperationalError("broker down"),
        ConnectionRefusedError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("gone"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
    ],
)
def test_unreachable_services_are_outages(exc, settings):
    settings.UNAVAILABLE_RETRY_AFTER_SECONDS = 7
    error = unavailable(exc)
    assert (error.code, error.http_status, error.retry_after) == ("unavailable", 503, 7)


@pytest.mark.parametrize(
    "exc", [ValueError("bug"), KeyError("x"), redis.exceptions.ResponseError()]
)
def test_other_failures_stay_server_errors(exc):
    assert unavailable(exc) is None


def test_an_api_client_gets_json_with_retry_after(middleware):
    request = RequestFactory().get("/console/api/conversations", HTTP_ACCEPT="application/json")
    response = middleware.process_exception(request, redis.exceptions.ConnectionError())
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert json.loads(response.content)["error"]["code"] == "unavailable"


def test_a_browser_gets_a_page_that_tries_again(middleware):
    request = RequestFactory().get("/console/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    response = middleware.process_exception(request, OperationalError("down"))
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    page = response.content.decode()
    assert "Briefly unavailable" in page
    assert 'http-equiv="refresh" content="3"' in page


def test_a_bug_is_left_to_django(middleware):
    request = RequestFactory().get("/console/")
    assert middleware.process_exception(request, ValueError("bug")) is None
