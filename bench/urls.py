"""The real urls plus `/bench/ping/`, the minimal view the webhook is compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def ping(request: HttpRequest) -> HttpResponse:
    """Answered through the same middleware stack as the webhook; POSTed the same body size
    (csrf_exempt, like the webhook), so the ratio isolates the webhook's own work."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/ping/", ping),
    path("", include("callcenter.urls")),
]
