"""Production: every secret from the environment, no defaults, fail at start-up."""

import environ

from .base import *  # noqa: F403
from .base import TELEPHONY_MODE, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise environ.ImproperlyConfigured("SECRET_KEY must be at least 32 characters")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])
if TELEPHONY_MODE == "twilio":
    TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
    # The softphone cannot register without an API key to sign its access tokens.
    TWILIO_API_KEY_SID = env("TWILIO_API_KEY_SID")
    TWILIO_API_KEY_SECRET = env("TWILIO_API_KEY_SECRET")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)

# --- HTTPS behind the TLS proxy (docs/security.md, "Production headers") ------------------
# On by default when PUBLIC_BASE_URL is https. The proxy sets X-Forwarded-Proto; requests
# from inside the network (the health check, the simulator's webhooks to web:8000) send
# X-Forwarded-Proto themselves.
_HTTPS = PUBLIC_BASE_URL.startswith("https://")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Two-factor sign-in is required for these roles ("admin" = also every staff account).
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["admin", "director", "manager"])
