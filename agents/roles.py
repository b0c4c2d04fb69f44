"""What each role may do: the one table (DOMAIN.md "Roles").

A page, service or form asks `can(person, capability)`, or filters people by
`roles_that(capability)`; no app keeps a set of roles of its own. How far a person sees is
agents.reach (self, team, departments or center); this table says what they may do there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.models import Role

if TYPE_CHECKING:
    from agents.models import Person

A, TL, TR, M, D, AD = (
    Role.AGENT,
    Role.TEAM_LEAD,
    Role.TRAINING_LEAD,
    Role.MANAGER,
    Role.DIRECTOR,
    Role.ADMIN,
)

CAPABILITIES: dict[str, frozenset[str]] = {
    # How far a person reaches (agents.reach): the whole center, the departments they
    # manage, or their team; everyone else reaches themself.
    "reach_center": frozenset({D, TR, AD}),
    "reach_departments": frozenset({M}),
    "reach_team": frozenset({TL}),
    # Sit in a team and work the phones: are offered calls, dial out, register a softphone,
    # take a transfer, are assigned tickets.
    "take_calls": frozenset({A, TL}),
    # Supervise agents: decide their requests, watch the team board, be someone's
    # "reports to".
    "supervise": frozenset({TL, M, D}),
    "listen_to_calls": frozenset({TL, M}),
    "set_targets": frozenset({M, D, AD}),
    "compute_performance_sheets": frozenset({M, D, AD}),
    "close_months": frozenset({D, AD}),
    "see_voice_menus": frozenset({TR, M, D, AD}),
    # The center's leaders the org chart names above its departments.
    "lead_the_center": frozenset({TR, M, D}),
    # QA
    "sample_calls": frozenset({TR, M, D, AD}),
    "coach_agents": frozenset({TL, TR, M, D, AD}),
    "edit_scorecards": frozenset({TR, D, AD}),
    "run_calibrations": frozenset({TR, D, AD}),
    "join_calibrations": frozenset({TL, TR, M}),
    "see_every_calibration": frozenset({D, AD}),
    # Who may give a person each role (the roster's add and edit).
    f"assign_{A}": frozenset({M, D, AD}),
    f"assign_{TL}": frozenset({M, D, AD}),
    f"assign_{TR}": frozenset({D, AD}),
    f"assign_{M}": frozenset({AD}),
    f"assign_{D}": frozenset({AD}),
    f"assign_{AD}": frozenset({AD}),
}

# A superuser may do everything the table grants, except what needs a seat in a team:
# working the phones follows their role.
BY_ROLE_ONLY = frozenset({"take_calls"})


def roles_that(capability: str) -> frozenset[str]:
    return CAPABILITIES[capability]


def role_can(role: str, capability: str) -> bool:
    """The role's own grant, whoever holds it (superuser or not)."""
    return role in CAPABILITIES[capability]


def can(person: Person, capability: str) -> bool:
    if person.is_superuser and capability not in BY_ROLE_ONLY:
        return True
    return role_can(person.role, capability)


def roles_assignable_by(person: Person) -> tuple[str, ...]:
    return tuple(role for role in Role if can(person, f"assign_{role}"))
