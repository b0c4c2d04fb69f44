"""Who is asking: the client's address behind the documented number of proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind `TRUSTED_PROXY_COUNT` proxies it is the entry that
    many from the right of X-Forwarded-For (each proxy appends who it heard from; entries
    further left are whatever the client wrote). REMOTE_ADDR when there are no proxies or
    the header is short or not an address. Used by the status page's per-address limit and
    the login lockout (django-axes)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote
