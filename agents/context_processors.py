from __future__ import annotations

from django.http import HttpRequest

from agents.models import Person, Role
from agents.roles import CAPABILITIES, can


class Capabilities:
    """`{% if may.set_targets %}`: agents.roles.can for the signed-in person."""

    def __init__(self, person: Person):
        self.person = person

    def __getitem__(self, capability: str) -> bool:
        return can(self.person, capability)


def person(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "me": user,
        "Role": Role,
        "may": Capabilities(user),
        # `{% if me.role in roles.supervise %}`: the role's own grant, superuser or not
        # (agents and team leads take calls: every page tells them when one rings).
        "roles": CAPABILITIES,
    }
