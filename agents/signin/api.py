"""HTTP basic auth for the API that keeps the sign-in rules: a locked-out user or address
is answered 429, and an account that signs in with a second factor cannot use a password
alone (basic auth has no room for the code; such people use the session)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.authentication import BasicScheme
from rest_framework import authentication, exceptions

from agents.signin.twofactor import second_factor_step


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # axes flags the request it was given (DRF passes its own Request).
            if request is not None and getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(
                    detail=_("Too many failed sign-ins. Try again later.")
                ) from None
            raise
        if second_factor_step(user) is not None:
            raise exceptions.AuthenticationFailed(
                _("This account signs in with two-factor: basic auth is not accepted.")
            )
        return user, auth


class BasicAuthenticationScheme(BasicScheme):
    """Documents it in the OpenAPI schema as plain basic auth (defining it registers it)."""

    target_class = "agents.signin.api.BasicAuthentication"
