"""Log lines: JSON with their context in production, readable text otherwise, and request ids."""

import contextvars
import json
import logging
import logging.config
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from helpdesk.core import logging as log_context
from helpdesk.core.logging import ContextFilter, JsonFormatter, TextFormatter
from helpdesk.core.middleware import RequestIdMiddleware


def record(message="Reply %s stored", args=(7,), exc_info=None, **extra) -> logging.LogRecord:
    made = logging.getLogger("helpdesk.test").makeRecord(
        "helpdesk.test", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )
    ContextFilter().filter(made)
    return made


def in_fresh_context(function, /, *args, **kwargs):
    return contextvars.Context().run(function, *args, **kwargs)


def test_json_lines_are_json_with_the_context_fields():
    def run():
        log_context.bind(request_id="req-1", tenant=42, conversation=1001, job_id="job-9")
        return JsonFormatter().format(record(extra_field="x", request=object()))

    line = json.loads(in_fresh_context(run))
    assert line["message"] == "Reply 7 stored"
    assert line["level"] == "INFO"
    assert line["logger"] == "helpdesk.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert line["request_id"] == "req-1"
    assert line["tenant"] == 42
    assert line["conversation"] == 1001
    assert line["job_id"] == "job-9"
    assert line["extra_field"] == "x"
    assert "request" not in line  # an object, not a plain value


def test_json_lines_leave_out_unknown_context_and_carry_the_traceback_in_one_line():
    def run():
        try:
            raise ValueError("broken")
        except ValueError:
            import sys

            return JsonFormatter().format(record(exc_info=sys.exc_info()))

    text = in_fresh_context(run)
    assert "\n" not in text
    line = json.loads(text)
    assert not {"request_id", "tenant", "conversation", "job_id"} & line.keys()
    assert "ValueError: broken" in line["exc"]


def test_text_lines_are_readable_with_the_context_at_the_end():
    def run():
        log_context.bind(tenant=3, conversation=5)
        return TextFormatter().format(record())

    text = in_fresh_context(run)
    assert text.endswith("INFO helpdesk.test Reply 7 stored [tenant=3 conversation=5]")


def test_model_instances_are_bound_by_their_pk():
    class Tenant:
        pk = 12

    assert (
        in_fresh_context(lambda: (log_context.bind(tenant=Tenant()), log_context.current())[1])[
            "tenant"
        ]
        == 12
    )


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_logging_setting_builds_both_formats(settings, fmt):
    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = fmt
    config["root"] = {"handlers": []}  # configure, but leave the real root alone
    config["loggers"] = {"helpdesk.test.cfg": {"handlers": ["console"], "propagate": False}}
    logging.config.dictConfig(config)
    handler = logging.getLogger("helpdesk.test.cfg").handlers[0]
    formatter = handler.formatter
    assert isinstance(formatter, JsonFormatter if fmt == "json" else TextFormatter)
    assert any(isinstance(f, ContextFilter) for f in handler.filters)
    logging.config.dictConfig(settings.LOGGING)


def test_celery_jobs_log_their_id():
    from helpdesk.celery import _forget_job_id, _log_job_id

    def run():
        log_context.bind(tenant=1)  # left by the previous job on this thread
        _log_job_id(task_id="abc-123")
        during = log_context.current()
        _forget_job_id()
        return during, log_context.current()

    during, after = in_fresh_context(run)
    assert during == {"job_id": "abc-123"}
    assert after == {}


# --- Request ids ---------------------------------------------------------------------------------


def test_a_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-42")
    assert response["X-Request-ID"] == "lb-7f3a-42"


def test_a_request_without_an_id_gets_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("given", ["", "a b", "x" * 129, "id\u00e9", "<script>"])
def test_an_unlikely_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given.encode().decode("latin-1"))
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


async def test_an_async_request_logs_with_its_id_and_forgets_it_after():
    seen = {}

    async def view(request):
        seen.update(log_context.current())
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    response = await middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-async"))
    assert response["X-Request-ID"] == "req-async"
    assert seen == {"request_id": "req-async"}
    assert log_context.request_id.get() is None


def test_a_sync_request_logs_with_its_id_and_forgets_it_after():
    seen = {}

    def view(request):
        seen.update(log_context.current())
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-sync"))
    assert response["X-Request-ID"] == "req-sync"
    assert seen == {"request_id": "req-sync"}
    assert log_context.request_id.get() is None
