"""Test settings: the real settings module, plus what only tests may turn on.

The mode (embedded or services) still comes from DATABASE_URL / REDIS_URL, exactly as in
production, so the same suite runs in both.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("STARTUP_CHECKS", "false")
os.environ.setdefault("EVENTS_CHECK_JSON", "true")

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import DATABASES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: threads and jobs then lock like they do in production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405

# Each run gets its own queue, so a worker of this run never takes another run's jobs.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault(
    "CELERY_TASK_DEFAULT_QUEUE", f"helpdesk-tests-{os.getpid()}"
)
