"""`make run`: embedded defaults (SQLite, SQLite broker file) unless URLs are set."""

from pathlib import Path

from callcenter.runenv import run_env_adopt

# A manage.py command in another shell talks to the server `make run` started, whatever
# PORT it was given (callcenter/runenv.py); before base reads PORT and PUBLIC_BASE_URL.
run_env_adopt(var_dir=Path(__file__).resolve().parents[2] / "var")

from .base import *  # noqa: E402, F403
from .base import VAR_DIR, env  # noqa: E402

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
