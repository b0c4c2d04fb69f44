"""`make run`: embedded defaults (SQLite, SQLite broker file) unless URLs are set."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# Off by default, so `make run` shows Sangdam's own 404/403/400/500 pages, in the person's
# language, as a deployment does; DEBUG=true brings back Django's debug pages. Errors are
# logged with their traceback to the console either way.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="local-dev-only-not-secret")  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Static files straight from static/ and the apps (no collectstatic), re-read when they
# change, with DEBUG off too: WhiteNoise's finders mode, meant for development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
VAR_DIR.mkdir(exist_ok=True)
