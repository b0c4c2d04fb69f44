"""The evaluation page: scoring (drafts in place, the live total), comments at a moment,
acknowledging, disputing and resolving a dispute."""

from __future__ import annotations

import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.roles import role_can
from callcenter.pii import PiiBlocked, pii_list
from qa.forms import DisputeForm, parse_marks
from qa.models import Dispute, ScorecardItem
from qa.selectors.evaluations import evaluation_form, evaluation_get_for, marks_of, open_dispute_of
from qa.services import disputes, evaluations
from qa.views.common import _error_list, _own_numbers
from tickets.forms import PII_MESSAGE, PiiCheck


def _items(evaluation) -> list[ScorecardItem]:
    return list(ScorecardItem.objects.filter(section__scorecard_id=evaluation.scorecard_id))


def _pii_check(request, evaluation, texts: dict, labels: dict) -> PiiCheck:
    """The PII guard on an evaluator's free text (item notes, feedback, comments, the
    dispute decision): found identifiers block the save until `pii_action=mask` confirms."""
    return PiiCheck(
        texts,
        labels=labels,
        own_phone=_own_numbers(evaluation),
        action=request.POST.get("pii_action", ""),
    )


class _PiiShown:
    """What the service's guard blocked on (PiiBlocked), as tickets/_pii.html lists it."""

    blocked = True
    non_field_errors = ()

    def __init__(self, blocked: PiiBlocked, labels: dict):
        self.findings, self.labels = blocked.findings, labels

    def pii_list(self) -> list[dict]:
        return pii_list(self.findings, self.labels)


def _pii_shown(blocked: PiiBlocked, labels: dict) -> _PiiShown:
    return _PiiShown(blocked, labels)


def _marks_texts(items, notes: dict, feedback: str | None) -> tuple[dict, dict]:
    texts = {f"note-{pk}": text for pk, text in notes.items() if text}
    labels = {f"note-{i.pk}": f"{_('Note')} · {i.text}" for i in items}
    if feedback is not None:
        texts["feedback"] = feedback
        labels["feedback"] = _("Feedback")
    return texts, labels


def _confirm_masking(request) -> dict:
    data = request.POST.copy()
    data["pii_action"] = "mask"
    return data


def _evaluation_context(request, evaluation, *, errors=(), marks=None, form_data=None):
    me = request.user
    result = evaluations.evaluation_score(
        evaluation, marks if marks is not None else marks_of(evaluation)
    )
    dispute = open_dispute_of(evaluation)
    may_score = evaluation.evaluator_id == me.pk and evaluation.is_open
    may_review = dispute is not None and dispute.reviewer_id == me.pk
    call = evaluation.call
    note = None
    if call.ticket_id:
        note = call.ticket.notes.filter(call=call).select_related("author").first()
    return {
        "evaluation": evaluation,
        "call": call,
        "note": note,
        "sections": evaluation_form(evaluation, result),
        "result": result,
        "may_score": may_score,
        "may_review": may_review,
        "editable": may_score or may_review,
        "is_agent": evaluation.agent_id == me.pk and evaluation.calibration_id is None,
        "dispute": dispute,
        "disputes": evaluation.disputes.select_related("reviewer", "raised_by"),
        "events": evaluation.events.select_related("actor"),
        "comments": evaluation.comments.select_related("author"),
        "coaching": evaluation.coaching.all(),
        "errors": list(errors),
        "form_data": form_data,
        "dispute_form": DisputeForm(own_phone=_own_numbers(evaluation)),
        "may_coach": (
            role_can(me.role, "coach_agents")
            and evaluation.is_scored
            and evaluation.calibration_id is None
            and me.pk != evaluation.agent_id
        ),
        "playable": call.recording_status == "completed" and bool(call.recording_url),
    }


@login_required
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    me = request.user
    evaluation = evaluation_get_for(me, evaluation_id)
    if request.method == "POST":
        items = _items(evaluation)
        marks, notes, errors = parse_marks(request.POST, items)
        action = request.POST.get("action", "draft")
        texts, labels = _marks_texts(items, notes, (request.POST.get("feedback") or "")[:10000])
        pii = _pii_check(request, evaluation, texts, labels)
        form_data = request.POST
        if pii.blocked:
            errors.append(PII_MESSAGE)
            form_data = _confirm_masking(request)
        draft_in_place = request.htmx and action == "draft"
        if not errors:
            try:
                evaluation = evaluations.evaluation_save(
                    evaluation=evaluation,
                    actor=me,
                    marks=marks,
                    notes={pk: pii.raw.get(f"note-{pk}", text) for pk, text in notes.items()},
                    feedback=pii.raw["feedback"],
                    submit=action == "submit",
                    pii_confirmed=pii.confirmed,
                )
            except PermissionDenied:
                raise
            except PiiBlocked as blocked:
                pii = _pii_shown(blocked, labels)
                errors = [PII_MESSAGE]
                form_data = _confirm_masking(request)
            except ValidationError as exc:
                errors = _error_list(exc)
            else:
                if action == "submit":
                    messages.success(request, _("Evaluation submitted; the agent can read it now."))
                    return redirect("qa:home")
                if draft_in_place:
                    return _draft_saved(request, evaluation, texts)
                messages.success(request, _("Draft saved."))
                return redirect("qa:evaluation", evaluation_id=evaluation.pk)
        if draft_in_place:
            context = {
                "evaluation": evaluation,
                "save_errors": errors,
                "save_pii": pii if pii.blocked else None,
            }
            status = 422 if pii.blocked else 400
            return render(request, "qa/evaluation.html#save-result", context, status=status)
        context = _evaluation_context(
            request, evaluation, errors=errors, marks=marks, form_data=form_data
        )
        context["pii"] = pii if pii.blocked else None
        return render(request, "qa/evaluation.html", context, status=400)
    evaluations.evaluation_mark_read(evaluation=evaluation, actor=me)
    return render(request, "qa/evaluation.html", _evaluation_context(request, evaluation))


def _draft_saved(request, evaluation, texts: dict) -> HttpResponse:
    """A draft saved in place (htmx): the page, and the recording playing on it, stay. Says
    when it was saved, updates the status pill, and hands the page the masked form of any
    text the PII guard masked, so the fields show what was stored."""
    stored = {f"note-{a.item_id}": a.note for a in evaluation.answers.all()}
    stored["feedback"] = evaluation.feedback
    masked = {
        name: stored[name]
        for name, text in texts.items()
        if name in stored and stored[name] != text
    }
    context = {
        "evaluation": evaluation,
        "saved_at": timezone.now(),
        "masked": json.dumps(masked, ensure_ascii=False) if masked else "",
        "oob": True,
    }
    return render(request, "qa/evaluation.html#save-result", context)


@login_required
@require_POST
def evaluation_total(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """The live total while scoring: the same formula as submission, on the unsaved form."""
    evaluation = evaluation_get_for(request.user, evaluation_id)
    marks, _notes, errors = parse_marks(request.POST, _items(evaluation))
    try:
        marks = evaluations.clean_marks(evaluation, marks)
    except ValidationError as exc:
        errors += _error_list(exc)
        marks = {}
    result = evaluations.evaluation_score(evaluation, marks)
    return render(
        request,
        "qa/evaluation.html#total",
        {"result": result, "evaluation": evaluation, "errors": errors, "live": True},
    )


@login_required
@require_POST
def comment_add(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_get_for(request.user, evaluation_id)
    error = ""
    try:
        at_seconds = float(request.POST.get("at_seconds", ""))
    except ValueError:
        at_seconds = -1
    if not math.isfinite(at_seconds):  # "nan" and "inf" parse; SQLite stores NaN as NULL
        at_seconds = -1
    body = request.POST.get("body", "")[:2000]
    pii = _pii_check(request, evaluation, {"body": body}, {"body": _("Comment")})
    if pii.blocked:
        error = PII_MESSAGE
    else:
        try:
            evaluations.evaluation_comment_add(
                evaluation=evaluation,
                actor=request.user,
                at_seconds=at_seconds,
                body=pii.raw["body"],
                pii_confirmed=pii.confirmed,
            )
        except PiiBlocked as blocked:
            pii = _pii_shown(blocked, {"body": _("Comment")})
            error = PII_MESSAGE
        except ValidationError as exc:
            error = " ".join(exc.messages)
    context = {
        "evaluation": evaluation,
        "comments": evaluation.comments.select_related("author"),
        "comment_error": error,
        "comment_pii": pii if pii.blocked else None,
        "comment_body": body if pii.blocked else "",
        "editable": True,
    }
    if request.htmx:
        status = 422 if pii.blocked else 400 if error else 200
        return render(request, "qa/evaluation.html#comments", context, status=status)
    if pii.blocked:
        page = {**_evaluation_context(request, evaluation), **context}
        return render(request, "qa/evaluation.html", page, status=422)
    if error:
        messages.error(request, error)
    return redirect("qa:evaluation", evaluation_id=evaluation.pk)


@login_required
@require_POST
def evaluation_acknowledge(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_get_for(request.user, evaluation_id)
    try:
        evaluations.evaluation_acknowledge(evaluation=evaluation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("qa:evaluation", evaluation_id=evaluation.pk)
    messages.success(request, _("Acknowledged."))
    return redirect("qa:evaluation", evaluation_id=evaluation.pk)


@login_required
@require_POST
def evaluation_dispute(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_get_for(request.user, evaluation_id)
    form = DisputeForm(request.POST, own_phone=_own_numbers(evaluation))
    if form.is_valid():
        try:
            dispute = disputes.dispute_open(
                evaluation=evaluation,
                actor=request.user,
                reason=form.pii_raw["reason"],
                pii_confirmed=form.pii_confirmed,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Dispute sent to %(reviewer)s.") % {"reviewer": dispute.reviewer.display_name},
            )
            return redirect("qa:evaluation", evaluation_id=evaluation.pk)
    context = _evaluation_context(request, evaluation)
    context["dispute_form"] = form
    return render(request, "qa/evaluation.html", context, status=400)


@login_required
@require_POST
def dispute_resolve(request: HttpRequest, dispute_id: int) -> HttpResponse:
    me = request.user
    dispute = get_object_or_404(Dispute.objects.select_related("evaluation"), pk=dispute_id)
    evaluation = evaluation_get_for(me, dispute.evaluation_id)
    marks = None
    errors: list[str] = []
    if request.POST.get("decision") == "change":
        marks, _notes, errors = parse_marks(request.POST, _items(evaluation))
    pii = _pii_check(
        request,
        evaluation,
        {"resolution": request.POST.get("resolution", "")},
        {"resolution": _("Resolve the dispute")},
    )
    form_data = request.POST
    if pii.blocked:
        errors.append(PII_MESSAGE)
        form_data = _confirm_masking(request)
    if not errors:
        try:
            disputes.dispute_resolve(
                dispute=dispute,
                actor=me,
                resolution=pii.raw["resolution"],
                marks=marks,
                pii_confirmed=pii.confirmed,
            )
        except PiiBlocked as blocked:
            pii = _pii_shown(blocked, {"resolution": _("Resolve the dispute")})
            errors = [PII_MESSAGE]
            form_data = _confirm_masking(request)
        except ValidationError as exc:
            errors = _error_list(exc)
        else:
            messages.success(request, _("Dispute resolved; the agent is told."))
            return redirect("qa:evaluation", evaluation_id=evaluation.pk)
    context = _evaluation_context(
        request, evaluation, errors=errors, marks=marks, form_data=form_data
    )
    context["pii"] = pii if pii.blocked else None
    return render(request, "qa/evaluation.html", context, status=400)
