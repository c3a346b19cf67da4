"""Fail at start, naming the variable, when a configured service cannot be reached."""

from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connections


def redact(url: str) -> str:
    """The URL without its password, for messages that may reach logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def verify_services() -> None:
    if not settings.STARTUP_CHECKS:
        return
    _verify_database()
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = getattr(settings, name)
        if url and urlsplit(url).scheme in {"redis", "rediss", "unix"}:
            _verify_redis(name, url)


def _verify_database() -> None:
    connection = connections["default"]
    try:
        if connection.vendor == "postgresql":
            _connect_postgres_directly(connection.settings_dict)
        else:
            connection.ensure_connection()
    except (OperationalError, psycopg.OperationalError) as exc:
        if settings.DATABASE_URL:
            variable, where = "DATABASE_URL", redact(settings.DATABASE_URL)
        else:
            variable, where = "VAR_DIR", connection.settings_dict["NAME"]
        reason = " ".join(str(exc).split())  # psycopg's messages span lines
        raise ImproperlyConfigured(
            f"{variable}: cannot connect to the database at {where}: {reason}"
        ) from None
    finally:
        connection.close()


def _connect_postgres_directly(params: dict) -> None:
    # Not through Django's pool: the pool would retry until DATABASE_POOL_TIMEOUT and then
    # only say it got no connection, hiding the server's own answer ("connection refused").
    options = params.get("OPTIONS", {})
    psycopg.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        connect_timeout=options.get("connect_timeout", 5),
    ).close()


def _verify_redis(variable: str, url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ImproperlyConfigured(
            f"{variable}: cannot connect to Redis at {redact(url)}: {exc}"
        ) from None
    finally:
        client.close()
