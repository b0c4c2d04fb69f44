"""Sends whoever signed in with a password but still owes the second factor to the verify
page (or, with no device yet and a role that requires one, to enrolment) before anything
else: pages, /admin/ and the API through the session."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from agents.signin.twofactor import otp_required_for, second_factor_step
from callcenter.redirects import htmx_page, redirect_page

# Set at sign-in when the person has no device and no duty to enrol, so the pages (and the
# desk's 2-second polls) do not look for devices on every request. Enrolling ends the
# person's other sessions (services.totp_device_confirm).
NOTHING_OWED_KEY = "signin_nothing_owed"


def remember_nothing_owed(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver (AgentsConfig.ready): the look-up happens once, at sign-in."""
    if request is not None and hasattr(request, "session") and second_factor_step(user) is None:
        request.session[NOTHING_OWED_KEY] = user.pk


_ALLOWED_NAMES = (
    "signin:two-factor-verify",
    "signin:two-factor-setup",
    "logout",
    "set_language",
)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed: set[str] | None = None

    def _is_allowed(self, path: str) -> bool:
        if self._allowed is None:
            self._allowed = {reverse(name) for name in _ALLOWED_NAMES}
        return path in self._allowed or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not self._is_allowed(request.path_info)
        ):
            step = self._step(request, user)
            if step is not None:
                return self._refuse(request, step)
        return self.get_response(request)

    def _step(self, request: HttpRequest, user) -> str | None:
        if request.session.get(NOTHING_OWED_KEY) == user.pk and not otp_required_for(user):
            return None
        step = second_factor_step(user)
        if step is None:
            request.session[NOTHING_OWED_KEY] = user.pk
        return step

    def _refuse(self, request: HttpRequest, step: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Two-factor sign-in is required: finish it on the web pages.")},
                status=403,
            )
        target = reverse(
            "signin:two-factor-verify" if step == "verify" else "signin:two-factor-setup"
        )
        page = htmx_page(request)
        next_url = page or (request.get_full_path() if request.method == "GET" else "")
        location = f"{target}?{urlencode({'next': next_url})}" if next_url else target
        return redirect_page(request, location)
