"""Log lines that say where they come from: JSON in production, readable text otherwise.

Each line carries, when known, the request id (``request_id``), the tenant (``tenant``), the
conversation (``conversation``) and the background job (``job_id``). They live in context
variables, so they follow a request or a connection through its awaits and into its
``sync_to_async`` threads, and are set in one line where they become known:

- ``RequestIdMiddleware`` (helpdesk/core/middleware.py): the request id, from X-Request-ID or
  new, echoed in the response's X-Request-ID;
- Celery's task_prerun signal (helpdesk/celery.py): the job id;
- a realtime connection once it knows its visitor or agent, and the bot's reply job:
  ``bind(tenant=..., conversation=...)``.

``ContextFilter`` copies them onto every record; the formatters print them. No message text,
token or secret belongs in a log line at INFO: log ids, and let the reader look the rest up.

Settings: ``LOG_FORMAT=json|text`` picks the formatter (helpdesk/settings.py, ``LOGGING``).
"""

import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id: ContextVar[str | None] = ContextVar("log_request_id", default=None)
tenant: ContextVar[int | None] = ContextVar("log_tenant", default=None)
conversation: ContextVar[int | None] = ContextVar("log_conversation", default=None)
job_id: ContextVar[str | None] = ContextVar("log_job_id", default=None)

_VARS: dict[str, ContextVar] = {
    "request_id": request_id,
    "tenant": tenant,
    "conversation": conversation,
    "job_id": job_id,
}
CONTEXT_FIELDS = tuple(_VARS)
_PLAIN = (str, int, float, bool, type(None))

# What a LogRecord has of its own; anything else passed as ``extra`` goes in the JSON line.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    *CONTEXT_FIELDS,
}


def bind(**fields: Any) -> None:
    """Set context fields (``tenant``, ``conversation``, ``request_id``, ``job_id``) for the
    rest of this task, thread or request. Model instances are taken by their pk."""
    for name, value in fields.items():
        _VARS[name].set(getattr(value, "pk", value))


def clear(*names: str) -> None:
    """Forget context fields (all of them without names): a pool thread's next job starts
    clean."""
    for name in names or CONTEXT_FIELDS:
        _VARS[name].set(None)


def current() -> dict[str, Any]:
    """The context fields that are set."""
    return {name: value for name, var in _VARS.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Puts the context fields on every record (a record that already has one keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _VARS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


def _context_of(record: logging.LogRecord) -> dict[str, Any]:
    fields = {}
    for name, var in _VARS.items():
        value = getattr(record, name, None)
        if value is None:
            value = var.get()  # a handler configured without the filter
        if value is not None:
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context
    fields that are known, ``extra`` fields of plain types, and the traceback as ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context_of(record))
        for key, value in record.__dict__.items():
            # Plain values only: Django passes the request object itself (``extra={"request":
            # ...}``), whose text would carry the query string.
            if (
                key not in _RECORD_ATTRIBUTES
                and not key.startswith("_")
                and key not in line
                and isinstance(value, _PLAIN)
            ):
                line[key] = value
        if record.exc_info:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message [request_id=… tenant=… conversation=… job_id=…]``."""

    def __init__(self, fmt: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = _context_of(record)
        if not fields:
            return text
        context = " ".join(f"{name}={value}" for name, value in fields.items())
        first, newline, rest = text.partition("\n")  # the traceback stays below
        return f"{first} [{context}]{newline}{rest}"
