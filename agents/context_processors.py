from django.http import HttpRequest

from agents.models import Role
from agents.roles import roles_that


def person(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Agents and team leads take calls: every page tells them when one rings.
    return {"me": user, "Role": Role, "offer_alert_roles": roles_that("take_calls")}
