from django.http import HttpRequest

from agents.models import Role


def person(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"me": user, "Role": Role}
