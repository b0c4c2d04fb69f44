"""Twilio request signatures, checked with the twilio SDK against the public base URL."""

from __future__ import annotations

import functools
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponseForbidden
from django.utils.crypto import salted_hmac
from twilio.request_validator import RequestValidator, compare

# The simulator's signing token is derived from SECRET_KEY: every process of one deployment
# (web, worker, the simulate_* commands) computes the same token, and no one who can read
# the repository can (issue 17: a constant token let anyone forge calls and SMS).
SIMULATOR_TOKEN_SALT = "sangdam.telephony.simulator-webhook-token"


def webhook_auth_token() -> str:
    """The token webhooks are signed with: the real one, or the simulator's in simulated mode."""
    if settings.TWILIO_AUTH_TOKEN:
        return settings.TWILIO_AUTH_TOKEN
    if settings.TELEPHONY_MODE == "simulated":
        return simulator_auth_token(settings.SECRET_KEY)
    return ""


@functools.lru_cache(maxsize=4)
def simulator_auth_token(secret_key: str) -> str:
    """HMAC-SHA256 of SECRET_KEY: the simulator's token without a token in the source."""
    if not secret_key:
        return ""  # no key, no token: every webhook is refused
    return salted_hmac(
        SIMULATOR_TOKEN_SALT, "twilio-signature", secret=secret_key, algorithm="sha256"
    ).hexdigest()


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def signature_is_valid(request: HttpRequest) -> bool:
    token = webhook_auth_token()
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not token or not signature:
        return False
    # Behind a TLS proxy the URL Twilio signed is the public one, not what Django sees.
    # The SDK's validate() accepts the URL both with and without the port, computing both
    # every time; a signature over the URL exactly as configured is checked first, with the
    # SDK's own computation and comparison. A body signed by hash (bodySHA256, JSON
    # webhooks) goes to validate() as text, so that the SDK checks the hash too.
    url = public_url(request.get_full_path())
    validator = _validator(token)
    query = request.META.get("QUERY_STRING", "")
    if "bodySHA256" in query and request.GET.get("bodySHA256"):  # the SDK checks the hash
        return validator.validate(url, request.body.decode("utf-8", "replace"), signature)
    try:
        if compare(validator.compute_signature(url, request.POST), signature):
            return True
        return validator.validate(url, request.POST, signature)
    except (TypeError, ValueError):  # a body the SDK cannot read is not signed by Twilio
        return False


def twilio_webhook(view):
    """Reject unsigned or wrongly signed requests with 403 before anything is read or written."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseForbidden("POST only")
        if not signature_is_valid(request):
            return HttpResponseForbidden("invalid Twilio signature")
        return view(request, *args, **kwargs)

    wrapper.csrf_exempt = True  # Twilio cannot send a CSRF token; the signature replaces it
    wrapper.twilio_webhook = True  # lets tests find every webhook URL by introspection
    return wrapper
