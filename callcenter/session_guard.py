"""Sessions on shared desks (issue 17): an idle timeout counted in the person's actions, an
absolute maximum from sign-in, and `Cache-Control: no-store` on every authenticated answer.

Background requests, which the page makes on its own (htmx polls: the desktop panel, the
team board, the offer alert, the wallboard tiles, QA sampling progress; the softphone's
token refresh), neither extend a session nor keep it alive. The browser marks them with the
`X-Sangdam-Background` header (static/js/sangdam.js marks every htmx request no user event
triggered; softphone.js its token fetch). A client that leaves the mark off only keeps its
own session alive, as any action would; the absolute maximum holds regardless.

When a session has run out, the person is logged out and the request gets an answer its
caller understands: htmx a 401 with `HX-Redirect` to the login page, `fetch` asking for JSON
a 401 JSON body, the API (DRF) its own 403 for an anonymous request, a page the usual
redirect to the login page.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from callcenter.redirects import htmx_page, redirect_page

BACKGROUND_HEADER = "HTTP_X_SANGDAM_BACKGROUND"
LOGIN_AT = "sangdam_login_at"  # epoch seconds: when this session's sign-in was first seen
ACTIVE_AT = "sangdam_active_at"  # epoch seconds: the person's last action (to the resolution)

now = time.time  # tests move this clock


def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    """A sign-in starts both clocks (login() may keep an earlier session's data)."""
    if request is not None and hasattr(request, "session"):
        at = now()
        request.session[LOGIN_AT] = at
        request.session[ACTIVE_AT] = at


user_logged_in.connect(_stamp_sign_in, dispatch_uid="sangdam-session-sign-in")


def is_background(request: HttpRequest) -> bool:
    return request.META.get(BACKGROUND_HEADER) == "1"


def _expired(session, at: float) -> bool:
    login_at = session.get(LOGIN_AT)
    active_at = session.get(ACTIVE_AT, login_at)
    if not isinstance(login_at, (int, float)) or not isinstance(active_at, (int, float)):
        return False  # not stamped yet: stamped below
    return (
        at - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT
        or at - active_at >= settings.SESSION_IDLE_TIMEOUT
    )


def _expired_answer(request: HttpRequest) -> HttpResponse | None:
    login_url = settings.LOGIN_URL
    page = htmx_page(request)
    if page is not None:
        # The page, not the fragment, is where the person comes back to after signing in.
        return redirect_page(request, redirect_to_login(page, login_url)["Location"])
    if request.path.startswith("/api/"):
        return None  # DRF answers an anonymous request with its 403 JSON
    if "application/json" in request.headers.get("Accept", ""):
        location = redirect_to_login(request.get_full_path(), login_url)["Location"]
        return JsonResponse(
            {"error": _("Your session has ended. Please sign in again."), "login_url": location},
            status=401,
        )
    return None  # login_required sends the browser to the login page


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware. Stamps sign-in and actions in the session; ends a
    session idle for SESSION_IDLE_TIMEOUT or older than SESSION_ABSOLUTE_TIMEOUT."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            at = now()
            if _expired(session, at):
                logout(request)
                answer = _expired_answer(request)
                if answer is not None:
                    add_never_cache_headers(answer)  # answered to a signed-in request
                    return answer
            else:
                if not isinstance(session.get(LOGIN_AT), (int, float)):  # signed in before
                    session[LOGIN_AT] = at
                    session[ACTIVE_AT] = at
                elif not is_background(request):
                    # Written at most once per resolution: an action is not a session write.
                    last = session.get(ACTIVE_AT, 0)
                    if at - last >= settings.SESSION_ACTIVITY_RESOLUTION:
                        session[ACTIVE_AT] = at
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with Django's never-cache set) on every answer to a signed-in
    person and every API answer, so a shared desk's browser keeps no copy of them. Static
    files are served before this middleware runs (WhiteNoise) and keep their caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            if "no-store" not in response.get("Cache-Control", ""):  # a view's own stays
                add_never_cache_headers(response)
        return response
