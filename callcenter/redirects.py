"""Redirect to where a form said to go back to (`next`), only if it is this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_next(request: HttpRequest, default: str, *args) -> HttpResponseRedirect:
    """`next` from the POST (or query) when it points at this host, else `default` (a URL
    name with `args`). An address on another site is ignored, never followed."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default, *args)
