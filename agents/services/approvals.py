"""Approval requests' records: an agent's request and the 실장's decision (the whole
decision, with the escalated ticket and the PII log, is tickets.approvals)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import ApprovalRequest, BreakSlot, Person, RequestKind, RequestStatus, Role
from agents.reach import approval_request_get_for
from agents.roles import can


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
