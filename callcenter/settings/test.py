"""pytest: SQLite in memory unless DATABASE_URL is set; real Redis and worker when REDIS_URL is."""

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, VAR_DIR, env

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PUBLIC_BASE_URL = "https://sangdam.example.com"
TWILIO_AUTH_TOKEN = "test-auth-token"  # noqa: S105
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TELEPHONY_MODE = "simulated"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run a real worker in-process (tests/conftest.py): Redis when REDIS_URL is set,
# otherwise kombu's in-memory transport. Nothing is eager.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT = None  # the URL's own (base names the embedded SQLite one)
if not REDIS_URL:  # with Redis: base's options (its timeouts are what the outage test tests)
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BEAT_SCHEDULE = {}
if not REDIS_URL:  # the worker runs in this process: no need for files
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "acd": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "acd"},
    }
LANGUAGE_CODE = env("TEST_LANGUAGE_CODE", default="ko")

# Threads in tests (live server, worker, router races) must not keep connections open.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so the live server, the in-process worker and the test share it.
    VAR_DIR.mkdir(exist_ok=True)
    # SANGDAM_TEST_DB lets parallel runs on one machine keep apart.
    DATABASES["default"]["TEST"] = {
        "NAME": env("SANGDAM_TEST_DB", default=str(VAR_DIR / "test-db.sqlite3"))
    }
elif env("SANGDAM_TEST_DB", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("SANGDAM_TEST_DB")}
# The voice menu goes straight to the queue unless a test asks for the survey question
# (tests/telephony/test_surveys.py turns it on).
CSAT_IVR_OPT_IN = False
