"""Settings shared by every environment. One environ.Env(); see README "Settings"."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PORT = env.int("PORT", default=8000)
# Twilio signs the public URL it called; behind a TLS proxy build_absolute_uri() is wrong,
# so signatures are checked against this base URL + the request path.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "agents",
    "telephony",
    "tickets",
    "qa",
    "kpi",
    "desk",
    "privacy",
    "demo",
]

# Order matters (issue 17): NUL bytes are refused before anything reads the input; no-store
# and the Content-Security-Policy sit outside everything that may answer by itself (the
# idle-timeout and two-factor redirects, the 401s), so those answers carry them too; the
# idle timeout is checked right after authentication, before the second factor is asked
# for; axes, last, turns a lockout into the 429 page (its documentation's place).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "callcenter.inputs.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "callcenter.session_guard.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "callcenter.session_guard.SessionTimeoutMiddleware",
    # Whether the session passed the second factor; then whoever still owes it is sent to
    # the verify or enrolment page.
    "django_otp.middleware.OTPMiddleware",
    "agents.signin.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]
INSTALLED_APPS += ["csp"]  # django-csp's own system checks

# --- Sign-in protection (issue 17): lockout (django-axes) and two-factor (django-otp) ----
INSTALLED_APPS += [
    # Their own apps, under Korean names in the admin (callcenter/apps.py).
    "callcenter.apps.AxesConfig",
    "django_otp",
    "callcenter.apps.OtpTotpConfig",
    "callcenter.apps.OtpStaticConfig",
]
# Axes first: a locked-out user or address is refused before the password hasher runs.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures per user name, and per client address (higher: a whole floor of agents often
# shares one address behind the center's NAT), within the cool-off; then refused until it ends.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "agents.signin.lockout.PerParameterLimitHandler"
AXES_CLIENT_IP_CALLABLE = "callcenter.clients.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Never stored or logged in clear (the password field always is masked by axes).
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken", "otp_token"]
AXES_VERBOSE = True
# Roles that must sign in with a second factor (TOTP app or a recovery code). "admin" also
# covers every staff or superuser account. Production requires admin, director and manager.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=[])
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Sangdam")
OTP_RECOVERY_CODES = 10

ROOT_URLCONF = "callcenter.urls"
# Every select's empty choice reads "선택", not Django's "---------" (admin too).
FORM_RENDERER = "callcenter.forms.FormRenderer"
WSGI_APPLICATION = "callcenter.wsgi.application"
ASGI_APPLICATION = "callcenter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.person",
                "qa.context_processors.unread",
            ],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sangdam.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, simulator) write: WAL lets readers go on beside the
    # writer, a transaction takes the write lock when it starts (IMMEDIATE, so routing
    # stays serialised and no reader has to be upgraded), and a writer waits for the lock
    # up to `timeout` seconds instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
        ),
    }
# Connections are kept between requests: opening one costs more than a webhook's own work
# (PostgreSQL: a backend process; SQLite: reading the schema).
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "agents.Person"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REDIS_URL = env("REDIS_URL", default="")
# Redis holds copies and hints only (callcenter/redis_health.py): every client gives up
# after REDIS_TIMEOUT seconds, and a process that saw Redis fail takes its fallback without
# asking again for REDIS_DOWN_SECONDS, so a webhook answers within 2 s while Redis is down.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
REDIS_DOWN_SECONDS = env.float("REDIS_DOWN_SECONDS", default=5.0)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A cached value Redis cannot give within REDIS_TIMEOUT is not worth a
            # webhook's wait: short timeouts, one retry for a broken connection only.
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
                "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            },
        }
    }
    # Small markers every process must see (telephony.tasks: a routing run is requested).
    CACHES["acd"] = CACHES["default"]
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Without Redis the web server and the worker share these markers through files.
        "acd": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache-acd"),
        },
    }

# --- Celery -------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": REDIS_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
    }
    # A publish that fails is not retried for long: the work is a row the sweep finds.
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.1,
    }
else:
    # Embedded: messages are rows in their own SQLite file, written in one transaction
    # (callcenter/broker.py: kombu's SQLAlchemy transport; the filesystem one could tear).
    VAR_DIR.mkdir(exist_ok=True)
    CELERY_BROKER_URL = "sqlite:///" + str(VAR_DIR / "celery-broker.sqlite3")
    CELERY_BROKER_TRANSPORT = "callcenter.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "polling_interval": 0.25,
        # SQLite's busy timeout: a publisher waits for the poller's short write lock.
        "connect_args": {"timeout": 30},
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker outlives any broker outage
# Timers are deadlines stored in rows and swept here, never long countdowns (STYLE.md).
CELERY_BEAT_SCHEDULE = {
    "acd-sweep": {
        "task": "telephony.tasks.acd_sweep",
        "schedule": timedelta(seconds=env.float("ACD_SWEEP_SECONDS", default=2.0)),
        "options": {"expires": 10},
    },
    "kpi-fill": {
        "task": "kpi.tasks.kpi_fill_rollups",
        "schedule": timedelta(seconds=env.float("KPI_FILL_SECONDS", default=30.0)),
        "options": {"expires": 60},
    },
    # Post-call surveys by text message (telephony/services/surveys.py).
    "survey-sms-sweep": {
        "task": "telephony.tasks.surveys_sms_sweep",
        "schedule": timedelta(seconds=env.float("SURVEY_SMS_SWEEP_SECONDS", default=30.0)),
        "options": {"expires": 60},
    },
    # A merge's calls, texts and voicemails follow by event; this catches a lost reaction.
    "merges-follow-sweep": {
        "task": "telephony.tasks.merges_follow_sweep",
        "schedule": timedelta(seconds=env.float("MERGES_FOLLOW_SWEEP_SECONDS", default=300.0)),
        "options": {"expires": 600},
    },
    "tickets-sweep": {
        "task": "tickets.tasks.tickets_sweep",
        "schedule": timedelta(seconds=env.float("TICKETS_SWEEP_SECONDS", default=60.0)),
        "options": {"expires": 120},
    },
}
# Data protection (privacy/): the retention purge runs once a day (README "Backups,
# retention and erasure").
CELERY_BEAT_SCHEDULE["retention-purge"] = {
    "task": "privacy.tasks.retention_purge",
    "schedule": timedelta(hours=env.float("RETENTION_PURGE_HOURS", default=24.0)),
    "options": {"expires": 3600},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Telephony ----------------------------------------------------------------------------
TELEPHONY_MODE = env("TELEPHONY_MODE", default="simulated")
if TELEPHONY_MODE not in {"simulated", "twilio"}:
    raise environ.ImproperlyConfigured("TELEPHONY_MODE must be 'simulated' or 'twilio'")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
# Browser softphone (Voice JS SDK): an API key signs the agents' access tokens; Twilio caps
# a Voice token at 24 h, Sangdam at 1 h (the page refreshes it before it expires).
TWILIO_API_KEY_SID = env("TWILIO_API_KEY_SID", default="")
TWILIO_API_KEY_SECRET = env("TWILIO_API_KEY_SECRET", default="")
TWILIO_TWIML_APP_SID = env("TWILIO_TWIML_APP_SID", default="")
TWILIO_TOKEN_TTL = min(env.int("TWILIO_TOKEN_TTL", default=3600), 3600)
# Without TWILIO_AUTH_TOKEN, simulated mode signs and checks webhooks with a token derived
# from SECRET_KEY (telephony/security.py); `check --deploy` fails when it is readable from
# the source (docs/security.md, "Webhook signatures").
TWILIO_RECORD_CALLS = env.bool("TWILIO_RECORD_CALLS", default=True)
# Where the simulator posts its webhooks (Sangdam's own URLs); defaults to PUBLIC_BASE_URL.
SIMULATOR_TARGET_URL = env("SIMULATOR_TARGET_URL", default="").rstrip("/")
# Customers Sangdam dials in simulated mode (follow-ups, callbacks) answer after this
# many seconds, or not at all at this rate.
SIMULATOR_ANSWER_DELAY = env.float("SIMULATOR_ANSWER_DELAY", default=2.0)
SIMULATOR_NO_ANSWER_RATE = env.float("SIMULATOR_NO_ANSWER_RATE", default=0.1)

# --- Sangdam ------------------------------------------------------------------------------
DEMO_PASSWORD = env("DEMO_PASSWORD", default="sangdam-demo")
SHORT_ABANDON_SECONDS = env.int("SHORT_ABANDON_SECONDS", default=5)
# Service level target (share answered within each queue's threshold); the wallboard's
# colours compare against it.
SERVICE_LEVEL_TARGET = env.float("SERVICE_LEVEL_TARGET", default=0.80)
# How many reverse proxies in front of Sangdam append to X-Forwarded-For (the TLS proxy: 1).
# 0 = the client is REMOTE_ADDR. Used where a client's address counts (status page limit).
TRUSTED_PROXY_COUNT = max(env.int("TRUSTED_PROXY_COUNT", default=0), 0)
# KPI (kpi/formulas.py): which service-level variant dashboards show; the FCR repeat window;
# dispositions that count as the department kind's main task; post-call surveys
# (telephony/services/surveys.py).
KPI_SERVICE_LEVEL_VARIANT = env("KPI_SERVICE_LEVEL_VARIANT", default="default")
KPI_FCR_WINDOW_DAYS = env.int("KPI_FCR_WINDOW_DAYS", default=7)
KPI_MAIN_TASK_DISPOSITIONS = {"signup": ["signed_up"], "cancellation": ["saved"]}
CSAT_SMS_ENABLED = env.bool("CSAT_SMS_ENABLED", default=True)
CSAT_IVR_OPT_IN = env.bool("CSAT_IVR_OPT_IN", default=True)
# Monthly performance sheets (kpi/performance.py): normalised scores are capped at 120
# points; the weights and bands below apply until an admin sets their own (admin → KPI).
KPI_EVALUATION_CAP = 1.2
KPI_EVALUATION_DEFAULT_WEIGHTS = {"main_task": 35, "calls": 30, "csat": 20, "qa": 15}
KPI_INCENTIVE_BANDS = [(110.0, "S"), (100.0, "A"), (90.0, "B"), (80.0, "C"), (0.0, "D")]
# Minimum exposure to be ranked and banded in a month (docs/kpi.md): days with a handled call
# at least this share of the median days of the department's agents that month, and at least
# MIN_DAYS; at least MIN_HANDLED handled calls. Below it the sheet is listed, not ranked.
KPI_EVALUATION_MIN_SHARE = env.float("KPI_EVALUATION_MIN_SHARE", default=0.5)
KPI_EVALUATION_MIN_DAYS = env.int("KPI_EVALUATION_MIN_DAYS", default=1)
KPI_EVALUATION_MIN_HANDLED = env.int("KPI_EVALUATION_MIN_HANDLED", default=0)
CSAT_REPLY_HOURS = env.int("CSAT_REPLY_HOURS", default=24)

# --- Data protection (privacy/) -----------------------------------------------------------
# Days to keep call recordings (and voicemails), wrap-up notes and text-message bodies;
# 0 or empty keeps them forever. The purge empties them, the rows stay (README).


def _retention_days(name: str) -> int:
    raw = env.str(name, default="").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise environ.ImproperlyConfigured(f"{name} must be a whole number of days (0 = forever)")
    return int(raw)


RETENTION_RECORDING_DAYS = _retention_days("RETENTION_RECORDING_DAYS")
RETENTION_CALL_NOTE_DAYS = _retention_days("RETENTION_CALL_NOTE_DAYS")
RETENTION_SMS_DAYS = _retention_days("RETENTION_SMS_DAYS")
# Where `manage.py db_backup` writes when no path is given.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
# --- Sessions on shared desks (callcenter/session_guard.py; README "Settings") -------------
# Idle: the person's own actions count, the page's background polls do not. The absolute
# maximum runs from sign-in; the cookie and the stored session end with it.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=9 * 3600)  # one shift
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# The last action is written to the session at most this often (seconds), not per click.
SESSION_ACTIVITY_RESOLUTION = 60

# --- Browser security headers (docs/security.md, "Production headers") ------------------
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy in every settings module (django-csp 4): scripts and styles only
# from Sangdam's own static files; style attributes are allowed (templates use them for
# widths and bars); the Voice JS SDK's Twilio endpoints only in twilio mode.
_TWILIO_CONNECT = ["wss://*.twilio.com", "https://*.twilio.com"]
_TWILIO_MEDIA = ["https://sdk.twilio.com", "blob:"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"] + (_TWILIO_CONNECT if TELEPHONY_MODE == "twilio" else []),
        "media-src": ["'self'"] + (_TWILIO_MEDIA if TELEPHONY_MODE == "twilio" else []),
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "agents.signin.api.BasicAuthentication",  # refuses 2FA accounts, 429 when locked
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "callcenter.api_schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sangdam API",
    "DESCRIPTION": "Call center operations: org chart, calls, tickets, KPI.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every handler masks phone, card and resident registration numbers (callcenter.logfilter);
    # the development server's request lines lose their query string (searches).
    "filters": {
        "pii": {"()": "callcenter.logfilter.PiiLogFilter"},
        "no_query_string": {"()": "callcenter.logfilter.NoQueryStringFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["pii"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own django.server handler is replaced (it does not propagate): the console.
        "django.server": {
            "level": "WARNING",
            "filters": ["no_query_string"],
            "handlers": ["console"],
            "propagate": False,
        },
        "kombu.connection": {"level": "ERROR"},
    },
}
