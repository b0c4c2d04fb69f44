"""Every write to people and agent states goes through here."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import (
    AgentState,
    AgentStateInterval,
    AgentStatus,
    NotReadyReason,
    Person,
    Role,
    Team,
    WorkingHours,
)
from agents.roles import can, role_can, roles_assignable_by
from callcenter.clock import day_bounds
from callcenter.events import AgentBecameAvailable, emit

log = logging.getLogger(__name__)

BUSY_STATES = {AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP}
# States an agent may choose from the desktop; the others are set by the ACD.
SELECTABLE_STATES = {AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}


def agent_status_ensure(*, person: Person, at: datetime | None = None) -> AgentStatus:
    """The person's status row, created OFFLINE (with its open interval) on first use."""
    at = at or timezone.now()
    status, created = AgentStatus.objects.get_or_create(
        person=person, defaults={"state": AgentState.OFFLINE, "since": at}
    )
    if created:
        AgentStateInterval.objects.create(person=person, state=AgentState.OFFLINE, started_at=at)
    return status


def agent_status_lock(*, person_id: int) -> AgentStatus:
    """Lock the status row for the rest of the transaction (no-op lock on SQLite, where
    IMMEDIATE transactions serialise writers instead)."""
    return (
        AgentStatus.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(person_id=person_id)
    )


def _transition_fields(to_state: str, reason: str, at: datetime) -> dict:
    """What a move to `to_state` writes on the status row: the one rule for every move."""
    fields = {"state": to_state, "reason": reason, "since": at}
    if to_state == AgentState.AVAILABLE:
        fields["available_since"] = at
    if to_state != AgentState.WRAP_UP:
        fields["wrapup_deadline"] = None
    return fields


def agent_transition(
    *, status: AgentStatus, to_state: str, reason: str = "", at: datetime | None = None
) -> AgentStatus:
    """Trusted core: move a locked status to a new state and record the interval.

    Precondition: the caller holds the row lock (agent_status_lock) inside a transaction.
    """
    at = at or timezone.now()
    if status.state == to_state and status.reason == reason:
        return status
    AgentStateInterval.objects.filter(person_id=status.person_id, ended_at__isnull=True).update(
        ended_at=at
    )
    AgentStateInterval.objects.create(
        person_id=status.person_id, state=to_state, reason=reason, started_at=at
    )
    for name, value in _transition_fields(to_state, reason, at).items():
        setattr(status, name, value)
    status.save()
    return status


def agents_transition_bulk(*, person_ids: list[int], to_state: str, at: datetime, **also) -> None:
    """agent_transition for many agents at once (the router pairs calls in batches):
    the same fields and intervals in a fixed number of statements. `also` are further
    status fields to set (e.g. last_offered_at).

    Precondition: every status is locked by the caller and none is already in `to_state`.
    """
    if not person_ids:
        return
    AgentStateInterval.objects.filter(person_id__in=person_ids, ended_at__isnull=True).update(
        ended_at=at
    )
    AgentStateInterval.objects.bulk_create(
        [AgentStateInterval(person_id=i, state=to_state, started_at=at) for i in person_ids]
    )
    AgentStatus.objects.filter(person_id__in=person_ids).update(
        **{**_transition_fields(to_state, "", at), **also}
    )


def _validate_choice(state: str, reason: str) -> None:
    if state not in SELECTABLE_STATES:
        raise ValidationError(_("That state is set by the system, not chosen."))
    if state == AgentState.NOT_READY and reason not in NotReadyReason.values:
        raise ValidationError(_("Choose a reason for Not ready."))
    if state != AgentState.NOT_READY and reason:
        raise ValidationError(_("Only Not ready takes a reason."))


# Handling a call: the end of the last of these intervals is when the agent was last busy.
_CALL_WORK = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP)


def agent_idle_since(*, person: Person, at: datetime) -> datetime:
    """Where an agent who chooses Available (signing in, back from a break, after missing an
    offer) stands in the longest-idle order: idle since their last call work ended today,
    or, with none yet today, since their shift started (their working hours), else since
    the day began. Not since now: a newcomer would wait behind every colleague who has
    been taking calls all along. As in the ACDs that measure idle time from the last
    interaction (Genesys Cloud's longest idle), a break does not send an agent to the back
    of the line. After wrap-up the agent is idle from that moment (agent_transition)."""
    local = timezone.localtime(at)
    day_start, _ = day_bounds(at)
    last_call_end = (
        AgentStateInterval.objects.filter(
            person=person, state__in=_CALL_WORK, ended_at__gte=day_start, ended_at__lte=at
        )
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    if last_call_end is not None:
        return last_call_end
    shift = (
        WorkingHours.objects.filter(person=person, weekday=local.weekday())
        .values_list("starts", flat=True)
        .first()
    )
    if shift is not None:
        shift_start = datetime.combine(local.date(), shift, tzinfo=local.tzinfo)
        return min(shift_start, at)
    return day_start


@transaction.atomic
def agent_set_state(
    *, person: Person, state: str, reason: str = "", at: datetime | None = None
) -> AgentStatus:
    """The agent chooses a state. While busy with a call the choice is kept as the requested
    state and applied when wrap-up ends; it is never lost or overwritten by AVAILABLE."""
    _validate_choice(state, reason)
    agent_status_ensure(person=person, at=at)
    status = agent_status_lock(person_id=person.pk)
    if status.state in BUSY_STATES:
        status.requested_state = state
        status.requested_reason = reason
        status.save(update_fields=["requested_state", "requested_reason"])
        return status
    status.requested_state = ""
    status.requested_reason = ""
    returning = state == AgentState.AVAILABLE and status.state != AgentState.AVAILABLE
    agent_transition(status=status, to_state=state, reason=reason, at=at)
    if returning:
        status.available_since = agent_idle_since(person=person, at=status.since)
        status.save(update_fields=["available_since"])
    if state == AgentState.AVAILABLE:
        emit(AgentBecameAvailable(agent_id=person.pk))
    return status


@transaction.atomic
def agent_set_escalations_only(
    *, person: Person, on: bool, at: datetime | None = None
) -> AgentStatus:
    """A 실장 takes 실장 연결 only (the ACD offers them no queue calls) or everything again.
    Turning it on also makes them Available, unless they are busy with a call (then it
    applies when that call's wrap-up ends)."""
    if person.role != Role.TEAM_LEAD:
        raise PermissionDenied
    agent_status_ensure(person=person, at=at)
    status = agent_status_lock(person_id=person.pk)
    status.escalations_only = on
    status.save(update_fields=["escalations_only"])
    if on and status.state not in BUSY_STATES and status.state != AgentState.AVAILABLE:
        status.requested_state = ""
        status.requested_reason = ""
        agent_transition(status=status, to_state=AgentState.AVAILABLE, at=at)
    return status


def agent_finish_work(*, status: AgentStatus, at: datetime | None = None) -> AgentStatus:
    """End of wrap-up: apply the requested state, else AVAILABLE. Caller holds the lock."""
    to_state = status.requested_state or AgentState.AVAILABLE
    reason = status.requested_reason if to_state == AgentState.NOT_READY else ""
    status.requested_state = ""
    status.requested_reason = ""
    return agent_transition(status=status, to_state=to_state, reason=reason, at=at)


# --- approvals, breaks and working hours (the 실장's board) ---------------------------------


def approval_request_record(
    *,
    requester: Person,
    kind: str,
    reason: str,
    ticket=None,
    amount: int | None = None,
    break_start: datetime | None = None,
    break_minutes: int | None = None,
    at: datetime | None = None,
):
    """The request row of an agent asking their 실장: an escalation, a refund or exception,
    a break. `reason` has been through the PII guard. The whole request, with the log of
    what the guard masked, is tickets.approvals.approval_request_create."""
    from agents.models import ApprovalRequest, RequestKind

    at = at or timezone.now()
    reason = (reason or "").strip()
    if kind not in RequestKind.values:
        raise ValidationError(_("Unknown kind of request."))
    if not reason:
        raise ValidationError(_("Give a reason."))
    if requester.team_id is None:
        raise ValidationError(_("Only people in a team can ask their team lead."))
    if requester.role != Role.AGENT:
        # A team lead would be asking themselves; leads and above decide requests.
        raise ValidationError(_("Only agents send requests to their team lead."))
    if kind == RequestKind.BREAK:
        if break_start is None or not break_minutes or not 5 <= break_minutes <= 120:
            raise ValidationError(_("A break needs a start and 5 to 120 minutes."))
    if kind == RequestKind.REFUND and not amount:
        raise ValidationError(_("A refund needs an amount."))
    return ApprovalRequest.objects.create(
        kind=kind,
        requester=requester,
        team_id=requester.team_id,
        ticket=ticket,
        reason=reason[:2000],
        amount=amount,
        break_start=break_start,
        break_minutes=break_minutes,
        created_at=at,
    )


@transaction.atomic
def approval_request_record_decision(
    *,
    decider: Person,
    request_id: int,
    approve: bool,
    note: str = "",
    at: datetime | None = None,
):
    """The 실장 (or someone above them) approves or denies; an approved break becomes a
    scheduled break. `note` has been through the PII guard (see DecisionForm). The whole
    decision, with the escalated ticket and the PII log, is
    tickets.approvals.approval_request_decide."""
    from agents.models import ApprovalRequest, BreakSlot, RequestKind, RequestStatus
    from agents.reach import approval_request_get_for

    at = at or timezone.now()
    request = approval_request_get_for(decider, request_id)
    if not can(decider, "supervise"):
        raise ValidationError(_("Only a team lead or a manager decides requests."))
    if request.requester_id == decider.pk:
        raise ValidationError(_("You cannot decide your own request."))
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise ValidationError(_("This request was already decided."))
    request.status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    request.decided_by = decider
    request.decided_at = at
    request.decision_note = (note or "").strip()[:300]
    request.save()
    if request.kind == RequestKind.BREAK and approve:
        BreakSlot.objects.create(
            person_id=request.requester_id,
            starts_at=request.break_start,
            minutes=request.break_minutes,
            set_by=decider,
        )
    return request


def _check_team_member(lead: Person, person_id: int) -> Person:
    from agents.reach import person_get_for

    person = person_get_for(lead, person_id)
    if not can(lead, "supervise"):
        raise ValidationError(_("Only a team lead or a manager sets schedules."))
    if person.role != "agent":
        raise ValidationError(_("Schedules are set for agents."))
    return person


def working_hours_set(*, lead: Person, person_id: int, weekdays: list[int], starts, ends) -> int:
    """Set an agent's working hours on the given weekdays (replacing what was there)."""
    from agents.models import WorkingHours

    person = _check_team_member(lead, person_id)
    if ends <= starts:
        raise ValidationError(_("The end must be after the start."))
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise ValidationError(_("Choose the weekdays."))
    with transaction.atomic():
        for day in weekdays:
            WorkingHours.objects.update_or_create(
                person=person, weekday=day, defaults={"starts": starts, "ends": ends}
            )
    return len(weekdays)


def working_hours_clear(*, lead: Person, person_id: int, weekday: int) -> None:
    from agents.models import WorkingHours

    person = _check_team_member(lead, person_id)
    WorkingHours.objects.filter(person=person, weekday=weekday).delete()


def break_slot_add(
    *, lead: Person, person_id: int, starts_at: datetime, minutes: int, reason: str = "break"
):
    from agents.models import BreakSlot

    person = _check_team_member(lead, person_id)
    if not 5 <= minutes <= 120:
        raise ValidationError(_("A break lasts 5 to 120 minutes."))
    _validate_choice(AgentState.NOT_READY, reason)
    return BreakSlot.objects.create(
        person=person, starts_at=starts_at, minutes=minutes, reason=reason, set_by=lead
    )


def break_slot_remove(*, lead: Person, slot_id: int) -> None:
    from agents.models import BreakSlot

    slot = BreakSlot.objects.filter(pk=slot_id).first()
    if slot is None:
        raise ValidationError(_("No such break."))
    _check_team_member(lead, slot.person_id)
    slot.delete()


# --- people: adding, editing and moving (the roster and the admin) -------------------------

# The roles each role may give and edit are agents.roles' `assign_<role>`; a manager only
# inside their departments, the others anywhere in their center (agents.reach.teams_visible_to
# decides which teams each may use).


def person_supervisor_default(*, role: str, team: Team | None) -> Person | None:
    """Who a person in `team` reports to when nobody is chosen: an agent to the team's 실장,
    a team lead to a manager of the team's department."""
    if team is None or not role_can(role, "take_calls"):
        return None
    if role == Role.AGENT:
        leads = Person.objects.filter(team=team, role=Role.TEAM_LEAD)
    else:
        leads = Person.objects.filter(role=Role.MANAGER, managed_departments=team.department_id)
    return leads.filter(is_active=True).order_by("id").first()


def person_supervisor_resolve(
    *, person: Person | None, role: str, team: Team | None, reports_to: Person | None
) -> Person | None:
    """The supervisor a change ends with: the chosen one; the default when none is chosen,
    or when the person moves to another team (or role) and the old one was left as it was
    (today's 실장 does not follow an agent into their new team)."""
    if reports_to is None:
        return person_supervisor_default(role=role, team=team)
    if person is not None and reports_to.pk == person.reports_to_id:
        moved = (team.pk if team else None) != person.team_id
        if moved or role != person.role:
            return person_supervisor_default(role=role, team=team)
    return reports_to


def _supervisor_fits(*, role: str, team: Team | None, supervisor: Person) -> bool:
    if role == Role.AGENT:
        return supervisor.role == Role.TEAM_LEAD and supervisor.team_id == team.pk
    if role == Role.TEAM_LEAD:
        return (
            supervisor.role == Role.MANAGER
            and supervisor.managed_departments.filter(pk=team.department_id).exists()
        ) or (
            supervisor.role == Role.DIRECTOR and supervisor.center_id == team.department.center_id
        )
    return True


def person_check(
    *,
    by: Person,
    person: Person | None,
    username: str,
    role: str,
    team: Team | None,
    reports_to: Person | None,
    employee_no: str,
) -> None:
    """Every rule a person's place in the chart must meet, as field errors (ValidationError
    with a dict); PermissionDenied when `by` may not edit people or this person at all."""
    from agents.reach import people_visible_to, teams_visible_to

    assignable = roles_assignable_by(by)
    if not assignable:
        raise PermissionDenied
    if person is not None and (
        person.role not in assignable or not people_visible_to(by).filter(pk=person.pk).exists()
    ):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if role not in assignable:
        errors["role"] = _("You cannot give this role.")
    if role_can(role, "take_calls") and team is None:
        errors["team"] = _("Agents and team leads belong to a team: choose one.")
    elif not role_can(role, "take_calls") and team is not None:
        errors["team"] = _("Only agents and team leads belong to a team.")
    elif team is not None and not teams_visible_to(by).filter(pk=team.pk).exists():
        errors["team"] = _("This team is outside the departments you manage.")
    if reports_to is not None and "team" not in errors:
        if person is not None and reports_to.pk == person.pk:
            errors["reports_to"] = _("Nobody reports to themselves.")
        elif not _supervisor_fits(role=role, team=team, supervisor=reports_to):
            errors["reports_to"] = (
                _("An agent reports to a team lead of their team.")
                if role == Role.AGENT
                else _("A team lead reports to a manager of their department or the director.")
            )
    others = Person.objects.exclude(pk=person.pk) if person is not None else Person.objects
    if employee_no and others.filter(employee_no__iexact=employee_no).exists():
        errors["employee_no"] = _("Someone already has this employee number.")
    if person is None and others.filter(username__iexact=username).exists():
        errors["username"] = _("This username is taken.")
    if errors:
        raise ValidationError(errors)


def _skills_set(*, by: Person, person: Person, skills: dict[int, int | None]) -> None:
    """Set the person's level (1–10) in each queue of `skills`; None removes the skill.
    Only queues `by` may see are touched: other memberships stay as they are."""
    from agents.models import QueueMembership
    from telephony.selectors import queues_visible_to

    allowed = set(queues_visible_to(by).values_list("pk", flat=True))
    for queue_id, level in skills.items():
        if queue_id not in allowed:
            raise PermissionDenied
        if level is None:
            QueueMembership.objects.filter(person=person, queue_id=queue_id).delete()
        elif 1 <= level <= 10:
            QueueMembership.objects.update_or_create(
                person=person, queue_id=queue_id, defaults={"proficiency": level}
            )
        else:
            raise ValidationError({"skills": _("A skill level is 1 to 10.")})


@transaction.atomic
def person_create(
    *,
    by: Person,
    username: str,
    display_name: str,
    role: str,
    team: Team | None,
    reports_to: Person | None = None,
    employee_no: str = "",
    skills: dict[int, int | None] | None = None,
) -> Person:
    """A new person in the chart, without a usable password: they choose one through the
    one-time link (agents.signin.services.password_reset_issue). With no supervisor chosen,
    the team's 실장 (or the department's manager, for a team lead)."""
    username, employee_no = username.strip(), employee_no.strip()
    person_check(
        by=by,
        person=None,
        username=username,
        role=role,
        team=team,
        reports_to=reports_to,
        employee_no=employee_no,
    )
    person = Person(
        username=username,
        display_name=display_name.strip(),
        role=role,
        team=team,
        center_id=team.department.center_id if team else by.center_id,
        reports_to=reports_to or person_supervisor_default(role=role, team=team),
        employee_no=employee_no,
    )
    person.set_unusable_password()
    person.save()
    agent_status_ensure(person=person)
    _skills_set(by=by, person=person, skills=skills or {})
    log.info("person %s added by person %s", person.pk, by.pk)
    return person


@transaction.atomic
def person_update(
    *,
    by: Person,
    person_id: int,
    display_name: str,
    role: str,
    team: Team | None,
    reports_to: Person | None,
    employee_no: str = "",
    skills: dict[int, int | None] | None = None,
) -> Person:
    """Change a person's name, role, team, supervisor or skills. No supervisor chosen means
    the default one (person_supervisor_default); moving to another team moves the supervisor
    with it: one left as it was becomes the new team's 실장.
    A team lead who leaves a team hands their agents to the team's other lead, if any."""
    person = Person.objects.select_for_update().get(pk=person_id)
    employee_no = employee_no.strip()
    moved = (team.pk if team else None) != person.team_id
    role_changed = role != person.role
    reports_to = person_supervisor_resolve(
        person=person, role=role, team=team, reports_to=reports_to
    )
    person_check(
        by=by,
        person=person,
        username=person.username,
        role=role,
        team=team,
        reports_to=reports_to,
        employee_no=employee_no,
    )
    old_team_id, was_lead = person.team_id, person.role == Role.TEAM_LEAD
    person.display_name = display_name.strip()
    person.role, person.team, person.reports_to = role, team, reports_to
    person.employee_no = employee_no
    if team is not None:
        person.center_id = team.department.center_id
    person.save()
    if was_lead and (moved or role_changed) and old_team_id:
        heir = (
            Person.objects.filter(team_id=old_team_id, role=Role.TEAM_LEAD, is_active=True)
            .exclude(pk=person.pk)
            .order_by("id")
            .first()
        )
        Person.objects.filter(team_id=old_team_id, reports_to=person).update(reports_to=heir)
    _skills_set(by=by, person=person, skills=skills or {})
    if moved:
        log.info(
            "person %s moved from team %s to team %s by person %s",
            person.pk,
            old_team_id,
            team.pk if team else None,
            by.pk,
        )
    return person
