"""Settings for `make bench` only: the real app plus a bench-only urlconf (`/bench/ping/`).

The database comes from DATABASE_URL, which bench/run.py always sets (a bench SQLite file
by default); nothing here is reachable from production settings or urls.
"""

from callcenter.settings.base import *  # noqa: F403
from callcenter.settings.base import REDIS_URL, VAR_DIR, env

DEBUG = False  # DEBUG=True keeps every query in memory: not what production runs
SECRET_KEY = "bench-only-not-secret"  # noqa: S105
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8104").rstrip("/")
TELEPHONY_MODE = "simulated"
TWILIO_AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - signs the bench's own requests
TWILIO_RECORD_CALLS = True
if not REDIS_URL:
    # The embedded broker in a file of its own, so the bench never feeds a worker of
    # `make run`; run.py deletes it afterwards.
    BENCH_BROKER_FILE = VAR_DIR / "bench-celery-broker.sqlite3"
    CELERY_BROKER_URL = "sqlite:///" + str(BENCH_BROKER_FILE)
CELERY_BEAT_SCHEDULE = {}
# The route-request marker (telephony.tasks) apart from a dev server's, like the queue below.
CACHES = {
    **CACHES,  # noqa: F405
    "acd": {
        **CACHES["acd"],  # noqa: F405
        "KEY_PREFIX": "bench",
        **({} if REDIS_URL else {"LOCATION": str(VAR_DIR / "bench-cache-acd")}),
    },
}
# Messages the bench's webhooks enqueue go to a queue no worker consumes (and that
# run.py purges), even when REDIS_URL points at a broker a dev worker listens to.
CELERY_TASK_DEFAULT_QUEUE = "sangdam-bench"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"kombu.connection": {"level": "ERROR"}},
}
