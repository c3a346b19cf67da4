"""Test settings: the real settings module, plus what only tests may turn on.

The mode (embedded or services) still comes from DATABASE_URL / REDIS_URL, exactly as in
production, so the same suite runs in both.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("STARTUP_CHECKS", "false")
os.environ.setdefault("EVENTS_CHECK_JSON", "true")
# Readable failures: JSON lines are for production's log collectors.
os.environ.setdefault("LOG_FORMAT", "text")

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import DATABASES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One test database per run, so runs side by side never drop each other's tables. Processes the
# suite starts (a Celery worker, a daphne server) inherit the name through the environment.
_test_db = os.environ.setdefault("HELPDESK_TEST_DB", f"test_helpdesk_{os.getpid()}")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: threads and jobs then lock like they do in production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{_test_db}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": _test_db}

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405

# Each run gets its own queue, so a worker of this run never takes another run's jobs.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault(
    "CELERY_TASK_DEFAULT_QUEUE", f"helpdesk-tests-{os.getpid()}"
)

if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":  # noqa: F405
    # Tests clear the cache between tests (FLUSHDB); keep it off the broker's database.
    _cache_url = urlsplit(CACHES["default"]["LOCATION"])  # noqa: F405
    _db = int(_cache_url.path.strip("/") or 0)
    CACHES["default"]["LOCATION"] = urlunsplit(  # noqa: F405
        _cache_url._replace(path=f"/{(_db + 1) % 16}")
    )

# Plugin tests fetch product pages from a local HTTP server; production never reaches loopback.
PLUGIN_HTTP_ALLOW_LOOPBACK = True
# Bots answer from the fake model server on 127.0.0.1 (tests/fakes/llm_server.py), allowed here
# as an operator allows a self-hosted model server; tests/ai/test_endpoint_guard.py takes it away.
AI_ALLOWED_INTERNAL_HOSTS = ["127.0.0.0/8", "::1"]

# Servers this run starts serve static files straight from the source folders (no collectstatic).
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = True

# Uploaded files of this run only, removed with the run's other files in var/.
MEDIA_ROOT = VAR_DIR / f"{_test_db}-media"
STORAGES = {
    **STORAGES,  # noqa: F405
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "private", "base_url": None},
    },
}
