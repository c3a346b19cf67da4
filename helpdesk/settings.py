"""Settings for the helpdesk, every knob read from the environment.

With nothing set the project runs embedded (SQLite, in-memory channel layer, local-memory cache,
in-process jobs). ``DATABASE_URL`` and ``REDIS_URL`` switch it to PostgreSQL, the Redis channel
layer, the Redis cache and Celery. ``docs/configuration.md`` lists every variable.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _url_variable(name: str, allowed_schemes: set[str], default: str | None = None) -> str | None:
    """Read a URL variable and fail at start, naming the variable, when it is malformed."""
    value = env.str(name, default=default)
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL ({exc}): {value!r}") from None
    if parts.scheme not in allowed_schemes:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(sorted(allowed_schemes))}://, got {value!r}"
        )
    return value


def _rate_variable(name: str, default: str) -> tuple[int, int]:
    """A rate written LIMIT/SECONDS, e.g. 20/60 for twenty per minute."""
    text = env.str(name, default=default)
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(f"{name} must be LIMIT/SECONDS such as 20/60, got {text!r}")
    return int(match[1]), int(match[2])


def _positive_int_variable(name: str, default: int) -> int:
    value = env.int(name, default=default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1, got {value}")
    return value


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (the demo command makes one in var/)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused POST is answered in the shape its view's clients read (the console's JSON errors).
CSRF_FAILURE_VIEW = "helpdesk.core.http.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "helpdesk.core.apps.HelpdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "helpdesk.core",
    "helpdesk.tenants",
    "helpdesk.conversations",
    "helpdesk.realtime",
    "helpdesk.ai",
    "helpdesk.plugins",
    "helpdesk.widget",
    "helpdesk.console",
    "helpdesk.api",
    "helpdesk.webhooks",
    # django-ninja's Swagger UI, served from our static files rather than a CDN.
    "ninja",
    # django-axes: failed sign-ins, counted for the throttle (helpdesk/core/login_throttle.py).
    "helpdesk.core.apps.SignInProtectionConfig",
]

# Every middleware here must be async-capable: one sync-only middleware makes Django run the
# async views (long-poll holds for 25 s) on the single thread that all ORM calls of the
# WebSocket consumers share, stalling them all. Hence ServeStatic, WhiteNoise's async fork.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    # An id for each request's log lines, echoed in X-Request-ID (helpdesk/core/logging.py).
    "helpdesk.core.middleware.RequestIdMiddleware",
    # Before anything parses a body: an upload over its limit is a 413 (core/upload_limit.py).
    "helpdesk.core.upload_limit.BodyLimitMiddleware",
    # Before anything that queries: a NUL or lone surrogate in a request is a 400, not a 500.
    "helpdesk.core.middleware.InvalidCharactersMiddleware",
    # A view that fails because PostgreSQL, Redis or the broker is down answers 503 with
    # Retry-After (JSON for API clients), not a 500 page.
    "helpdesk.core.outage.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (a saved language choice lives there), before common (whose redirects
    # must already speak the chosen language): the request's language from Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    # The signed-in user's saved language (from the session) over the browser's.
    "helpdesk.tenants.languages.SavedLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = _url_variable(
    "DATABASE_URL", {"postgres", "postgresql", "pgsql", "sqlite"}, default=None
)
if DATABASE_URL:
    try:
        DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    except Exception as exc:  # django-environ raises a bare Exception family here
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
        }
    }

_db = DATABASES["default"]
# Seconds a request or job waits for a free pooled connection before it fails.
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
# Connections each server process's event loop keeps for the statements it runs itself, without
# a thread (helpdesk/core/apg.py): the customer-message hot path.
DATABASE_ASYNC_POOL_MAX = env.int("DATABASE_ASYNC_POOL_MAX", default=8)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on the
    # busy timeout instead of one failing with "database is locked" halfway through.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Django's psycopg 3 pool: connections are reused across requests and consumers instead of
    # being opened per request (CONN_MAX_AGE must stay 0 with a pool).
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": DATABASE_POOL_TIMEOUT,
    }
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ------------------------------------------------------

REDIS_URL = _url_variable("REDIS_URL", {"redis", "rediss", "unix"}, default=None)
CELERY_BROKER_URL = _url_variable(
    "CELERY_BROKER_URL", {"redis", "rediss", "amqp", "amqps", "pyamqp"}, default=REDIS_URL
)
if CELERY_BROKER_URL and not REDIS_URL:
    # Workers publish the bot's replies through the channel layer; an in-memory layer would
    # keep them inside the worker, out of reach of every web process.
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL needs REDIS_URL too: workers reach the web processes through the "
        "Redis channel layer."
    )

# How many events a socket's mailbox holds while its client is slower than they come. Past it,
# the queued events give way to one "resync" notice and the client resumes from its last seq.
CHANNEL_CAPACITY = env.int("CHANNEL_CAPACITY", default=500)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # One subscription per group per process, whatever the number of its sockets
            # (helpdesk/realtime/redis_layer.py).
            "BACKEND": "helpdesk.realtime.redis_layer.RedisHubChannelLayer",
            "CONFIG": {
                "url": REDIS_URL,
                "capacity": CHANNEL_CAPACITY,
                "prefix": env.str("CHANNEL_PREFIX", default="helpdesk"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="helpdesk"),
            "OPTIONS": {
                # One pool per process, not one per socket (see helpdesk/core/cache.py).
                "pool_class": "helpdesk.core.cache.SharedBlockingConnectionPool",
                "max_connections": env.int("CACHE_REDIS_MAX_CONNECTIONS", default=64),
                "timeout": 10,  # seconds to wait for a free connection before an error
                "socket_timeout": 5,
                "socket_connect_timeout": 5,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "helpdesk.realtime.layers.HubChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_RESULT_BACKEND = REDIS_URL
# Nothing reads a job's return value. Keeping them made every enqueue subscribe to the job's
# result channel in Redis, a round trip and a subscription per customer message.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL and urlsplit(CELERY_BROKER_URL).scheme == "redis":
    # kombu's, with the fix that keeps a busy worker alive through a Redis restart
    # (helpdesk/core/broker.py). Not for rediss://: kombu derives its TLS defaults from that
    # scheme's name, which a transport given by class would lose.
    CELERY_BROKER_TRANSPORT = "helpdesk.core.broker:Transport"

# Jobs run in-process (a small thread pool) when no broker is configured.
# A streaming bot reply holds one of these threads while it runs.
JOBS_INPROCESS_WORKERS = env.int("JOBS_INPROCESS_WORKERS", default=16)

# Workers enqueue again the job of a customer message the bot still owes a reply once it has
# waited this long with no bot message after it: its job was lost with the broker (a failed
# enqueue while Redis was down, a Redis restart). helpdesk/ai/unanswered.py; 0 turns it off.
UNANSWERED_SWEEP_SECONDS = env.float("UNANSWERED_SWEEP_SECONDS", default=10.0)
UNANSWERED_GRACE_SECONDS = env.float("UNANSWERED_GRACE_SECONDS", default=30.0)
UNANSWERED_MAX_AGE_SECONDS = env.float("UNANSWERED_MAX_AGE_SECONDS", default=3600.0)

# --- Startup -----------------------------------------------------------------------------------

# Connect to the database and Redis when the ASGI app or a worker starts, so a wrong URL fails
# at start with the variable's name rather than on the first customer message.
STARTUP_CHECKS = env.bool("STARTUP_CHECKS", default=True)

# --- AI defaults -------------------------------------------------------------------------------

OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = _url_variable("OPENAI_BASE_URL", {"http", "https"}, default=None) or ""


def _hosts_variable(name: str) -> list[str]:
    """Host names, IP addresses and CIDR networks; fail at start naming a malformed entry."""
    from helpdesk.core.netguard import AddressPolicy  # the parser the connect-time check uses

    entries = env.list(name, default=[])
    try:
        AddressPolicy.from_entries(entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
    return entries


# Internal hosts a tenant's bot endpoint may reach, such as a self-hosted vLLM or Ollama server.
# Every other non-public address is refused when the connection opens (helpdesk/core/netguard.py);
# OPENAI_BASE_URL is the operator's own and needs no entry.
AI_ALLOWED_INTERNAL_HOSTS = _hosts_variable("AI_ALLOWED_INTERNAL_HOSTS")

# A streaming bot reply not renewed by its worker for this long is taken for dead (its worker
# was killed) and closed with the bot's fallback text and a handoff (helpdesk/ai/reply_leases.py).
# Its worker renews it every third of this, whether tokens come or not.
BOT_REPLY_LEASE_SECONDS = env.float("BOT_REPLY_LEASE_SECONDS", default=30.0)
# How often each web process looks for such replies; 0 turns the sweep off. A reply is closed
# at most lease + this after its worker died.
BOT_REPLY_SWEEP_SECONDS = env.float("BOT_REPLY_SWEEP_SECONDS", default=10.0)

# Knowledge sources (helpdesk/ai/knowledge/extract.py, fetch.py): what one uploaded file or web
# source may cost the server. Past a limit the source fails with an error that names it, before
# the input can exhaust memory or a worker's time.
KNOWLEDGE_MAX_FILE_BYTES = _positive_int_variable("KNOWLEDGE_MAX_FILE_BYTES", 20 * 1024 * 1024)
KNOWLEDGE_MAX_PDF_PAGES = _positive_int_variable("KNOWLEDGE_MAX_PDF_PAGES", 500)
# Characters of text one source may yield, over all its pages (a compressed PDF can hold far more
# text than its size suggests).
KNOWLEDGE_MAX_TEXT_CHARS = _positive_int_variable("KNOWLEDGE_MAX_TEXT_CHARS", 2_000_000)
KNOWLEDGE_FETCH_MAX_BYTES = _positive_int_variable("KNOWLEDGE_FETCH_MAX_BYTES", 5 * 1024 * 1024)
KNOWLEDGE_FETCH_MAX_PAGES = _positive_int_variable("KNOWLEDGE_FETCH_MAX_PAGES", 200)
KNOWLEDGE_FETCH_TIMEOUT_SECONDS = _positive_int_variable("KNOWLEDGE_FETCH_TIMEOUT_SECONDS", 15)
# All the fetches of one source together (a sitemap's pages): a slow site cannot hold a worker
# for longer than this.
KNOWLEDGE_FETCH_BUDGET_SECONDS = _positive_int_variable("KNOWLEDGE_FETCH_BUDGET_SECONDS", 600)
# Internal hosts a tenant's web sources may be fetched from (an intranet wiki), in the format of
# AI_ALLOWED_INTERNAL_HOSTS. Every other non-public address is refused when the connection opens.
KNOWLEDGE_ALLOWED_INTERNAL_HOSTS = _hosts_variable("KNOWLEDGE_ALLOWED_INTERNAL_HOSTS")

# --- Product limits ----------------------------------------------------------------------------

# What a client is told to wait before retrying while a service is down (Retry-After).
UNAVAILABLE_RETRY_AFTER_SECONDS = _positive_int_variable("UNAVAILABLE_RETRY_AFTER_SECONDS", 3)
MESSAGE_MAX_CHARS = env.int("MESSAGE_MAX_CHARS", default=4000)

# --- Plugins -----------------------------------------------------------------------------------

# Seconds a plugin's customer-message (and after-reply) hook may take before it is cancelled and
# skipped; the message still flows. The bot's before_ai hooks get at most 2 s of it.
PLUGIN_HOOK_TIMEOUT = env.float("PLUGIN_HOOK_TIMEOUT", default=5.0)
# Let plugins' HTTP clients reach 127.0.0.0/8 and ::1. Test-only: tests fetch product pages
# from a local server. Private networks stay refused either way.
PLUGIN_HTTP_ALLOW_LOOPBACK = env.bool("PLUGIN_HTTP_ALLOW_LOOPBACK", default=False)

# --- Auth, i18n, static --------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# Password guessing (helpdesk/core/login_throttle.py, django-axes). Failures are counted per
# username and per client address, in the database so every process shares them; while either
# count is at the limit, every sign-in of that username or from that address is refused, the
# right password included. Failures stop counting once the cool-off has passed since the last
# one of the same username, address and browser.
AUTHENTICATION_BACKENDS = [
    # First: it refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "helpdesk.core.login_throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = _positive_int_variable("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=_positive_int_variable("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "helpdesk.core.login_throttle.request_client_ip"
# A successful sign-in forgives that account's own failures (LoginThrottleHandler).
AXES_RESET_ON_SUCCESS = True
# Sign-ins refused during a lockout do not push its end further: the wait the page announces holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No row per successful sign-in kept for ever; the admin shows only current failures, scoped to
# the tenant (helpdesk/tenants/admin.py) instead of axes' own superuser-only pages.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
# The sign-in forms answer a lockout themselves (LoginThrottleMixin), so axes' middleware is
# not installed: its async path, the one ASGI takes, passes its arguments in the wrong order
# (jazzband/django-axes#1494).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# Adding a language: an entry here and its catalogs under locale/ (`makemessages -l xx`).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# The language of a request whose browser asks for none of LANGUAGES.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, got {LANGUAGE_CODE!r}"
    )
# The project's own catalogs; `manage.py compile_catalogs` builds their .mo files, which git
# does not keep.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Uploaded files (knowledge sources). Never served as static files: they are read by jobs.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Attachments: the local filesystem unless ATTACHMENTS_S3_BUCKET names an S3-compatible
    # bucket (docs/operations.md). Served only through signed URLs (helpdesk/conversations/
    # attachment_views.py), never as media.
    "attachments": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env.str("ATTACHMENTS_S3_BUCKET"),
                "endpoint_url": env.str("ATTACHMENTS_S3_ENDPOINT_URL", default=None),
                "region_name": env.str("ATTACHMENTS_S3_REGION", default=None),
                "access_key": env.str("ATTACHMENTS_S3_ACCESS_KEY_ID", default=None),
                "secret_key": env.str("ATTACHMENTS_S3_SECRET_ACCESS_KEY", default=None),
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
                # "path" for MinIO and other stores without virtual-hosted buckets.
                "addressing_style": env.str("ATTACHMENTS_S3_ADDRESSING_STYLE", default=None),
            },
        }
        if env.str("ATTACHMENTS_S3_BUCKET", default="")
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT / "private", "base_url": None},
        }
    ),
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedStaticFilesStorage"},
}
# Largest file an agent may send (customers: their inbox's attachment_max_mb).
ATTACHMENT_AGENT_MAX_MB = env.int("ATTACHMENT_AGENT_MAX_MB", default=25)
# How long a signed attachment URL (/files/…) stays valid, in seconds.
ATTACHMENT_URL_MAX_AGE = env.int("ATTACHMENT_URL_MAX_AGE", default=3600)
# No upload body may be larger than this (the largest inbox limit is 50 MB), in MB.
ATTACHMENT_UPLOAD_MAX_MB = env.int("ATTACHMENT_UPLOAD_MAX_MB", default=50)
# Images with more pixels than this are refused (decompression bombs).
ATTACHMENT_MAX_IMAGE_PIXELS = env.int("ATTACHMENT_MAX_IMAGE_PIXELS", default=40_000_000)
# Uploads never sent with a message are deleted after this many hours.
ATTACHMENT_ORPHAN_HOURS = env.int("ATTACHMENT_ORPHAN_HOURS", default=24)

SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto and send cookies over HTTPS only.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Log lines: "json" (one JSON object a line, for log collectors; the default in production) or
# "text" (readable; the default with DEBUG, and what `make demo` and the tests use). Either way
# each line carries the request id, tenant, conversation and job id when known
# (helpdesk/core/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "helpdesk.core.logging.ContextFilter"}},
    "formatters": {
        "text": {"()": "helpdesk.core.logging.TextFormatter"},
        "json": {"()": "helpdesk.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Axes logs several INFO lines per sign-in; its WARNINGs (each failure, each lockout) stay.
    "loggers": {"axes": {"level": "WARNING"}},
}

# /metrics (Prometheus) answers to "Authorization: Bearer $METRICS_TOKEN"; unset, it is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# With several processes (web processes, Celery workers) on one machine: a directory they all
# share, emptied before the first starts (docs/operations.md). prometheus_client reads it from
# the environment, so a value from .env is put there too.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", PROMETHEUS_MULTIPROC_DIR)

# Round-trip every event through JSON when it is made (on in DEBUG and in tests).
EVENTS_CHECK_JSON = env.bool("EVENTS_CHECK_JSON", default=DEBUG)

# --- Realtime ------------------------------------------------------------------------------------

# How long a widget's visitor token stays valid; each connection renews it.
VISITOR_TOKEN_MAX_AGE = env.int("VISITOR_TOKEN_MAX_AGE", default=30 * 24 * 3600)
# How often `manage.py serve` (uvicorn) pings an idle WebSocket, and how long it waits for the
# pong before it closes the connection. Under the 60 s idle timeout of common proxies and load
# balancers; each ping costs CPU (20,000 idle sockets: ~10% of a core at 50 s, twice that at 25).
WS_PING_SECONDS = env.float("WS_PING_SECONDS", default=50.0)
# Largest WebSocket / long-poll frame accepted from a client.
WS_MAX_FRAME_BYTES = env.int("WS_MAX_FRAME_BYTES", default=16 * 1024)
# How long a long-poll GET waits for events before answering with none.
LONGPOLL_TIMEOUT = env.float("LONGPOLL_TIMEOUT", default=25.0)
# Rates as LIMIT/SECONDS.
RATE_CUSTOMER_MESSAGES = _rate_variable("RATE_CUSTOMER_MESSAGES", "20/60")
RATE_IP_MESSAGES = _rate_variable("RATE_IP_MESSAGES", "120/60")
RATE_AGENT_MESSAGES = _rate_variable("RATE_AGENT_MESSAGES", "120/60")
RATE_IP_VISITOR_TOKENS = _rate_variable("RATE_IP_VISITOR_TOKENS", "30/60")
# File uploads (helpdesk/conversations/attachments.py): per customer and per agent.
RATE_CUSTOMER_ATTACHMENTS = _rate_variable("RATE_CUSTOMER_ATTACHMENTS", "10/60")
RATE_AGENT_ATTACHMENTS = _rate_variable("RATE_AGENT_ATTACHMENTS", "60/60")
# How often resolved conversations past their tenant's retention are deleted or anonymised
# (helpdesk/conversations/retention.py); 0: never by itself (`manage.py apply_retention`).
RETENTION_SWEEP_SECONDS = env.int("RETENTION_SWEEP_SECONDS", default=3600)
# REST API calls per key (helpdesk/api/keys.py): over it, 429 with Retry-After.
RATE_API_KEY = _rate_variable("RATE_API_KEY", "600/60")
# Behind a reverse proxy, take the client address from X-Forwarded-For (the last hop's entry).
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)

# --- Secrets at rest ------------------------------------------------------------------------

# A Fernet key (base64, 32 bytes) for API keys and plugin secrets stored in the database.
ENCRYPTION_KEY = env.str("ENCRYPTION_KEY", default="")
if ENCRYPTION_KEY:
    try:
        from cryptography.fernet import Fernet

        Fernet(ENCRYPTION_KEY.encode())
    except ValueError:
        raise ImproperlyConfigured(
            'ENCRYPTION_KEY must be a Fernet key: python -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())"'
        ) from None

# --- Agent workflow ----------------------------------------------------------------------

# A queued conversation nobody accepted within this many seconds is surfaced to agents again.
QUEUE_REMINDER_SECONDS = env.int("QUEUE_REMINDER_SECONDS", default=120)

# --- Outbound webhooks (helpdesk/webhooks/, docs/webhooks.md) ------------------------------------

# Seconds to wait before each retry of a failed delivery; after the last one it is given up
# ("dead"). Six retries: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h.
WEBHOOK_RETRY_SECONDS = [
    float(s)
    for s in env.list("WEBHOOK_RETRY_SECONDS", default=["10", "60", "300", "1800", "7200", "21600"])
]
# How long one delivery may take, connecting to the last byte of the answer's status line.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# A webhook whose deliveries failed this many times in a row (every attempt counts, retries
# included; a success resets the count) is disabled, with the reason shown in the admin.
WEBHOOK_DISABLE_AFTER_FAILURES = _positive_int_variable("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
# How long a process trusts its own list of (tenant, event) pairs that have an active webhook
# before it asks the cache whether a webhook changed (announcing a change consults only this).
WEBHOOK_ACTIVE_CACHE_SECONDS = env.float("WEBHOOK_ACTIVE_CACHE_SECONDS", default=5.0)
# Internal hosts a tenant's webhooks may reach, in the format of AI_ALLOWED_INTERNAL_HOSTS.
# Every other non-public address is refused when the connection opens.
WEBHOOK_ALLOWED_INTERNAL_HOSTS = _hosts_variable("WEBHOOK_ALLOWED_INTERNAL_HOSTS")
