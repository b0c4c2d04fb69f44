"""django-axes with one limit per lockout parameter: a user name is locked after
`AXES_FAILURE_LIMIT` failures, a client address after `LOGIN_ADDRESS_FAILURE_LIMIT`."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from django.conf import settings
from django.db.models import Sum


def _limit_of(parameter) -> int:
    if parameter == "ip_address":
        return settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


class PerParameterLimitHandler(AxesDatabaseHandler):
    """Axes compares the largest failure count of any parameter with one limit. Each
    parameter's count is scaled here so that reaching its own limit reaches that one limit
    (floor(n·L/l) ≥ L exactly when n ≥ l)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        limit = settings.AXES_FAILURE_LIMIT
        scaled = [0]
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            scaled.append(failures * limit // _limit_of(parameter))
        return max(scaled)
