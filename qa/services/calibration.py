"""Blind calibration sessions: every participant scores the same call, then the facilitator
reveals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.reach import people_visible_to
from agents.roles import can, roles_that
from callcenter.clock import month_start
from callcenter.pii import pii_guard
from qa.models import (
    OPEN_STATUSES,
    CalibrationSession,
    Evaluation,
    SampleReason,
    Scorecard,
    ScorecardStatus,
)
from qa.services.common import _pii_record
from qa.services.scorecards import scorecard_for_call
from telephony.models import Call
from telephony.selectors import calls_visible_to


def calibration_create(
    *,
    actor: Person,
    call: Call,
    participants: Iterable[Person],
    title: str,
    scorecard: Scorecard | None = None,
    pii_confirmed: bool = False,
) -> CalibrationSession:
    """A blind calibration of one call: the facilitator (benchmark) and each participant get
    their own evaluation of it. The title goes through the PII guard (PiiBlocked until
    `pii_confirmed`; a title names no caller, so no number on record is exempt)."""
    if not can(actor, "run_calibrations"):
        raise PermissionDenied
    if not calls_visible_to(actor).filter(pk=call.pk).exists():
        raise PermissionDenied
    if call.agent_id is None or call.recording_status != "completed":
        raise ValidationError(_("Calibrate a handled call with a recording."))
    scorecard = scorecard or scorecard_for_call(call)
    if scorecard is None or scorecard.status != ScorecardStatus.PUBLISHED:
        raise ValidationError(_("This call's department has no published scorecard."))
    people = {p.pk: p for p in participants if p.pk != actor.pk}
    if not people:
        raise ValidationError(_("Invite at least one other evaluator."))
    allowed = set(
        people_visible_to(actor)
        .filter(pk__in=people, role__in=roles_that("join_calibrations"))
        .values_list("pk", flat=True)
    )
    if set(people) - allowed:
        raise ValidationError(_("Only team leads, training leads and managers can calibrate."))
    guarded = pii_guard({"title": (title or "").strip()}, confirmed=pii_confirmed)
    title = guarded.texts["title"] or _("Calibration")
    now = timezone.now()
    local = timezone.localtime(call.wrapup_ended_at or call.enqueued_at)
    with transaction.atomic():
        session = CalibrationSession.objects.create(
            title=title[:120], call=call, scorecard=scorecard, facilitator=actor, created_at=now
        )
        for person in [actor, *people.values()]:
            Evaluation.objects.create(
                call=call,
                scorecard=scorecard,
                agent=call.agent,
                team_id=call.team_id,
                department_id=call.department_id,
                evaluator=person,
                reason=SampleReason.CALIBRATION,
                month=month_start(local.date()),
                calibration=session,
                due_date=timezone.localdate() + timedelta(days=7),
                created_at=now,
            )
        _pii_record(actor, call, guarded.found(), now)
    return session


def calibration_reveal(*, session: CalibrationSession, actor: Person) -> CalibrationSession:
    if session.facilitator_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied
    if session.revealed_at:
        return session
    bench = session.evaluations.filter(evaluator_id=session.facilitator_id).first()
    if bench is None or bench.is_open:
        raise ValidationError(_("Submit the benchmark (your own scoring) before revealing."))
    submitted = session.evaluations.exclude(status__in=OPEN_STATUSES).exclude(pk=bench.pk)
    if not submitted.exists():
        raise ValidationError(_("Nobody else has submitted yet."))
    session.revealed_at = timezone.now()
    session.save(update_fields=["revealed_at"])
    return session
