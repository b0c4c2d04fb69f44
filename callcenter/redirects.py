"""Redirects: to where a form said to go back to (`next`), only if it is this site; to a
whole page, also from an htmx request."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
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


def htmx_page(request: HttpRequest) -> str | None:
    """For an htmx request, the page (path and query) the fragment was asked for from:
    where the person should come back to, not the fragment's own URL. None otherwise."""
    if request.headers.get("HX-Request") != "true":
        return None
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    return (current.path or "/") + (f"?{current.query}" if current.query else "")


def redirect_page(request: HttpRequest, location: str) -> HttpResponse:
    """Send the browser to `location` as a whole page. An htmx request gets 401 with
    `HX-Redirect` (a plain redirect would be followed by htmx and swapped into a fragment)."""
    if htmx_page(request) is None:
        return redirect(location)
    response = HttpResponse(status=401)
    response["HX-Redirect"] = location
    return response
