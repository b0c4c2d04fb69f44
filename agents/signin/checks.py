"""System checks for sign-in settings (registered in AgentsConfig.ready)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from agents.models import Role


@register(Tags.security)
def check_otp_required_roles(app_configs, **kwargs):
    """A misspelt role in OTP_REQUIRED_ROLES would silently leave that role without the
    second factor it was meant to require."""
    unknown = sorted(set(settings.OTP_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [
        Error(
            f"OTP_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}.",
            hint=f"Use some of: {', '.join(Role.values)}.",
            id="agents.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_client_address_behind_the_proxy(app_configs, **kwargs):
    """Behind the TLS proxy every request comes from the proxy's address unless Sangdam is
    told to read X-Forwarded-For: the per-address sign-in lockout and the status page's
    per-address limit would then be one limit for the whole center."""
    behind_proxy = settings.PUBLIC_BASE_URL.startswith("https://") and getattr(
        settings, "SECURE_PROXY_SSL_HEADER", None
    )
    if not behind_proxy or settings.TRUSTED_PROXY_COUNT > 0:
        return []
    return [
        Warning(
            "PUBLIC_BASE_URL is https behind a TLS proxy, but TRUSTED_PROXY_COUNT is 0: every "
            "client has the proxy's address, so 20 wrong passwords from anyone lock sign-in "
            "for the whole center.",
            hint="Set TRUSTED_PROXY_COUNT=1 for the one proxy in front of Sangdam.",
            id="agents.W001",
        )
    ]
