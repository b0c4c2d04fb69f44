"""QA pages: thin views over qa.selectors (reads, scoped) and qa.services (writes)."""

from __future__ import annotations

import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.models import Role
from agents.reach import departments_visible_to
from agents.roles import can, role_can
from callcenter.clock import month_start
from callcenter.exports import csv_writer
from callcenter.inputs import parse_id
from qa import selectors, services
from qa.forms import (
    CalibrationForm,
    CoachingPlanForm,
    DisputeForm,
    ItemRowForm,
    ReportRangeForm,
    SampleRunForm,
    ScorecardFieldsForm,
    ScorecardNewForm,
    SectionRowForm,
    parse_marks,
    six_months_back,
)
from qa.models import CoachingTask, Dispute, SampleRun, ScorecardItem
from qa.selectors import evaluations_visible_to
from telephony.models import CallPhase
from telephony.selectors import calls_visible_to
from tickets.forms import PII_MESSAGE, PiiCheck, own_numbers


def _error_list(exc: ValidationError) -> list[str]:
    return list(exc.messages)


@login_required
@require_GET
def recordings(request: HttpRequest) -> HttpResponse:
    me = request.user
    calls = list(
        calls_visible_to(me)
        .filter(phase=CallPhase.COMPLETED)
        .exclude(recording_status="")
        .select_related("agent", "team", "disposition", "customer")
        .prefetch_related(
            Prefetch(
                "evaluations",
                queryset=evaluations_visible_to(me).filter(calibration__isnull=True),
                to_attr="qa_evaluations",
            )
        )
        .order_by("-enqueued_at")[:100]
    )
    return render(
        request,
        "qa/recordings.html",
        {"calls": calls, "may_calibrate": can(me, "run_calibrations")},
    )


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The person's QA work: what to score, disputes to review, calibrations; for an agent,
    their evaluations (new ones first) and coaching plans."""
    me = request.user
    month = month_start()
    context = {
        "queue": selectors.evaluator_queue(me),
        "reviews": selectors.disputes_to_review(me),
        "inbox": selectors.agent_inbox(me)[:50],
        "done": selectors.evaluations_done_by(me)[:20],
        "plans": selectors.coaching_plans_for(me).filter(status="open")[:20],
        "summary": selectors.month_summary(me, month) if me.role != Role.AGENT else None,
        "month": month,
        "today": timezone.localdate(),
    }
    return render(request, "qa/home.html", context)


# --- Sampling ------------------------------------------------------------------------------


@login_required
def sampling(request: HttpRequest) -> HttpResponse:
    me = request.user
    try:
        services.check_may_sample(me)
    except PermissionDenied as exc:
        raise Http404 from exc
    form = SampleRunForm(request.POST or None, person=me)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.sample_run_start(
                    actor=me,
                    month=form.cleaned_data["month"],
                    department=form.cleaned_data["department"],
                    seed=form.cleaned_data["seed"],
                    rules=form.cleaned_data["rules"],
                    assign_mode=form.cleaned_data["assign_mode"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                return redirect(f"{request.path}?run={run.pk}")
        else:
            status = 400
    visible = departments_visible_to(me).values("pk")
    runs = SampleRun.objects.filter(center_id=me.center_id).select_related(
        "department", "started_by"
    )
    if me.role == Role.MANAGER:
        runs = runs.filter(department__in=visible)
    context = {"form": form, "runs": runs[:20]}
    # After a run: its result (how many evaluations, assigned to whom), live until it ends.
    run_id = parse_id(request.GET.get("run", ""))
    if run_id is not None:
        run = runs.filter(pk=run_id).first()
        if run is not None:
            context.update(run=run, summary=selectors.sample_run_summary(run))
    return render(request, "qa/sampling.html", context, status=status)


@login_required
@require_GET
def sampling_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    me = request.user
    try:
        services.check_may_sample(me)
    except PermissionDenied as exc:
        raise Http404 from exc
    run = get_object_or_404(SampleRun, pk=run_id, center_id=me.center_id)
    if me.role == Role.MANAGER and not departments_visible_to(me).filter(pk=run.department_id):
        raise Http404
    if request.GET.get("part") == "result":
        summary = selectors.sample_run_summary(run)
        return render(request, "qa/sampling.html#run-result", {"run": run, "summary": summary})
    return render(request, "qa/sampling.html#run-row", {"run": run})


# --- Evaluating ----------------------------------------------------------------------------


def _items(evaluation) -> list[ScorecardItem]:
    return list(ScorecardItem.objects.filter(section__scorecard_id=evaluation.scorecard_id))


def _own_numbers(evaluation) -> set[str]:
    """The caller's numbers: writing them down about this call is not a leak."""
    call = evaluation.call
    return own_numbers(call.customer) | {call.from_number}


def _pii_check(request, evaluation, texts: dict, labels: dict) -> PiiCheck:
    """The PII guard on an evaluator's free text (item notes, feedback, comments, the
    dispute decision): found identifiers block the save until `pii_action=mask` confirms."""
    return PiiCheck(
        texts,
        labels=labels,
        own_phone=_own_numbers(evaluation),
        action=request.POST.get("pii_action", ""),
    )


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
    result = services.evaluation_score(
        evaluation, marks if marks is not None else selectors.marks_of(evaluation)
    )
    dispute = selectors.open_dispute_of(evaluation)
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
        "sections": selectors.evaluation_form(evaluation, result),
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
    evaluation = selectors.evaluation_get_for(me, evaluation_id)
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
                evaluation = services.evaluation_save(
                    evaluation=evaluation,
                    actor=me,
                    marks=marks,
                    notes={pk: pii.texts.get(f"note-{pk}", text) for pk, text in notes.items()},
                    feedback=pii.texts["feedback"],
                    submit=action == "submit",
                    pii_found=pii.pii_found(),
                )
            except PermissionDenied:
                raise
            except ValidationError as exc:
                errors = _error_list(exc)
            else:
                if action == "submit":
                    messages.success(request, _("Evaluation submitted; the agent can read it now."))
                    return redirect("qa:home")
                if draft_in_place:
                    return _draft_saved(request, evaluation, texts, pii)
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
    services.evaluation_mark_read(evaluation=evaluation, actor=me)
    return render(request, "qa/evaluation.html", _evaluation_context(request, evaluation))


def _draft_saved(request, evaluation, texts: dict, pii: PiiCheck) -> HttpResponse:
    """A draft saved in place (htmx): the page, and the recording playing on it, stay. Says
    when it was saved, updates the status pill, and hands the page the masked form of any
    text the PII guard masked, so the fields show what was stored."""
    masked = {name: text for name, text in pii.texts.items() if text != texts.get(name)}
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
    evaluation = selectors.evaluation_get_for(request.user, evaluation_id)
    marks, _notes, errors = parse_marks(request.POST, _items(evaluation))
    try:
        marks = services.clean_marks(evaluation, marks)
    except ValidationError as exc:
        errors += _error_list(exc)
        marks = {}
    result = services.evaluation_score(evaluation, marks)
    return render(
        request,
        "qa/evaluation.html#total",
        {"result": result, "evaluation": evaluation, "errors": errors, "live": True},
    )


@login_required
@require_POST
def comment_add(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = selectors.evaluation_get_for(request.user, evaluation_id)
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
            services.evaluation_comment_add(
                evaluation=evaluation,
                actor=request.user,
                at_seconds=at_seconds,
                body=pii.texts["body"],
                pii_found=pii.pii_found(),
            )
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
    evaluation = selectors.evaluation_get_for(request.user, evaluation_id)
    try:
        services.evaluation_acknowledge(evaluation=evaluation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("qa:evaluation", evaluation_id=evaluation.pk)
    messages.success(request, _("Acknowledged."))
    return redirect("qa:evaluation", evaluation_id=evaluation.pk)


@login_required
@require_POST
def evaluation_dispute(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = selectors.evaluation_get_for(request.user, evaluation_id)
    form = DisputeForm(request.POST, own_phone=_own_numbers(evaluation))
    if form.is_valid():
        try:
            dispute = services.dispute_open(
                evaluation=evaluation,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                pii_found=form.pii_found(),
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
    evaluation = selectors.evaluation_get_for(me, dispute.evaluation_id)
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
            services.dispute_resolve(
                dispute=dispute,
                actor=me,
                resolution=pii.texts["resolution"],
                marks=marks,
                pii_found=pii.pii_found(),
            )
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


# --- Coaching ------------------------------------------------------------------------------


@login_required
def coaching_new(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    me = request.user
    evaluation = selectors.evaluation_get_for(me, evaluation_id)
    if not role_can(me.role, "coach_agents") or evaluation.agent_id == me.pk:
        raise Http404
    form = CoachingPlanForm(request.POST or None, own_phone=_own_numbers(evaluation))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                plan = services.coaching_plan_create(
                    actor=me,
                    agent=evaluation.agent,
                    evaluation=evaluation,
                    goals=form.cleaned_data["goals"],
                    due_date=form.cleaned_data["due_date"],
                    follow_up_date=form.cleaned_data["follow_up_date"],
                    tasks=form.cleaned_data["tasks"],
                    pii_found=form.pii_found(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("qa:coaching-plan", plan_id=plan.pk)
        status = 400
    return render(
        request, "qa/coaching_new.html", {"form": form, "evaluation": evaluation}, status=status
    )


@login_required
@require_GET
def coaching_list(request: HttpRequest) -> HttpResponse:
    plans = selectors.coaching_plans_for(request.user).order_by("status", "due_date")[:200]
    return render(request, "qa/coaching_list.html", {"plans": plans})


@login_required
@require_GET
def coaching_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.coaching_plan_get_for(request.user, plan_id)
    return render(
        request,
        "qa/coaching_plan.html",
        {"plan": plan, "follow_up": selectors.follow_up_of(plan), "today": timezone.localdate()},
    )


@login_required
@require_POST
def coaching_task_toggle(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(CoachingTask.objects.select_related("plan"), pk=task_id)
    selectors.coaching_plan_get_for(request.user, task.plan_id)
    services.coaching_task_set_done(
        task=task, actor=request.user, done=request.POST.get("done") == "1"
    )
    return redirect("qa:coaching-plan", plan_id=task.plan_id)


# --- Calibration ---------------------------------------------------------------------------


@login_required
@require_GET
def calibration_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "qa/calibration_list.html",
        {"sessions": selectors.calibrations_for(request.user)[:100]},
    )


@login_required
def calibration_new(request: HttpRequest, call_id: int) -> HttpResponse:
    me = request.user
    if not can(me, "run_calibrations"):
        raise Http404
    call = get_object_or_404(calls_visible_to(me), pk=call_id)
    form = CalibrationForm(request.POST or None, person=me)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                session = services.calibration_create(
                    actor=me,
                    call=call,
                    participants=form.cleaned_data["participants"],
                    title=form.cleaned_data["title"],
                    pii_found=form.pii_found(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("qa:calibration", session_id=session.pk)
        status = 422 if form.pii_findings else 400
    return render(request, "qa/calibration_new.html", {"form": form, "call": call}, status=status)


@login_required
def calibration_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    me = request.user
    session = selectors.calibration_get_for(me, session_id)
    error = ""
    if request.method == "POST":
        try:
            services.calibration_reveal(session=session, actor=me)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect("qa:calibration", session_id=session.pk)
    evaluations = session.evaluations.select_related("evaluator")
    mine = evaluations.filter(evaluator=me).first()
    context = {
        "session": session,
        "mine": mine,
        "evaluations": evaluations,
        "result": selectors.calibration_result(session) if session.revealed_at else None,
        "error": error,
    }
    return render(request, "qa/calibration.html", context, status=400 if error else 200)


# --- Scorecards ----------------------------------------------------------------------------


@login_required
@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "qa/scorecards.html",
        {"families": selectors.scorecard_families(request.user)},
    )


@login_required
def scorecard_detail(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    me = request.user
    scorecard = selectors.scorecard_get_for(me, scorecard_id)
    may_edit = can(me, "edit_scorecards")
    error = ""
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "publish":
                services.scorecard_publish(scorecard=scorecard, actor=me)
                return redirect("qa:scorecard", scorecard_id=scorecard.pk)
            if request.POST.get("action") == "new_version":
                new = services.scorecard_new_version(scorecard=scorecard, actor=me)
                return redirect("qa:scorecard", scorecard_id=new.pk)
            error = _("Unknown action.")
        except ValidationError as exc:
            error = " ".join(exc.messages)
    sections = scorecard.sections.prefetch_related("items")
    return render(
        request,
        "qa/scorecard.html",
        {
            "scorecard": scorecard,
            "sections": sections,
            "may_edit": may_edit,
            "error": error,
            "used": scorecard.evaluations.count(),
        },
        status=400 if error else 200,
    )


# --- Reports -------------------------------------------------------------------------------


@login_required
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    me = request.user
    if me.role == Role.AGENT:
        raise Http404
    form = ReportRangeForm(request.GET)
    valid = form.is_valid()
    if valid:
        start, end, group = (form.cleaned_data[k] for k in ("start", "end", "group"))
    else:  # a month outside 2000–2100 or over two years: the default range, and the error
        end = month_start()
        start, group = six_months_back(end), "agent"
    export = request.GET.get("export")
    if export and not valid:
        return HttpResponseBadRequest(" ".join(_form_errors(form)))
    months, rows = selectors.report_scores(me, start=start, end=end, group=group)
    failures = selectors.report_item_failures(me, start=start, end=end)
    evaluators = selectors.report_evaluators(me, start=start, end=end)
    coverage = selectors.report_coverage(me, month=end)
    if export:
        return _csv(export, months, rows, failures, evaluators, coverage, group)
    return render(
        request,
        "qa/reports.html",
        {
            "months": months,
            "rows": rows,
            "failures": failures[:40],
            "evaluators": evaluators,
            "coverage": coverage,
            "group": group,
            "start": start,
            "end": end,
            "summary": selectors.month_summary(me, end),
            "range_errors": _form_errors(form),
        },
        status=200 if valid else 400,
    )


def _form_errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _csv(export, months, rows, failures, evaluators, coverage, group) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")  # Excel reads UTF-8 (Korean names) only with a BOM
    writer = csv_writer(response)

    def fmt(v):  # a number, so a negative one stays a number in the spreadsheet
        return "" if v is None else round(float(v), 1)

    if export == "scores":
        groups = {"agent": _("Agent"), "team": _("Team"), "department": _("Department")}
        writer.writerow(
            [
                groups.get(group, group),
                *[f"{m:%Y-%m}" for m in months],
                _("Evaluations"),
                _("Average"),
                _("Compliance"),
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.label,
                    *[fmt(r.by_month[m]) for m in months],
                    r.count,
                    fmt(r.average),
                    fmt(r.compliance),
                ]
            )
    elif export == "items":
        writer.writerow(
            [
                _("Team"),
                _("Scorecard"),
                _("Criterion"),
                _("Compliance"),
                _("Answered"),
                _("Failed"),
                _("Failure %"),
            ]
        )
        for f in failures:
            writer.writerow(
                [f.team, f.scorecard, f.item, f.compliance, f.answered, f.failed, fmt(f.rate)]
            )
    elif export == "evaluators":
        writer.writerow(
            [
                _("Evaluator"),
                _("Evaluations"),
                _("Average given"),
                _("Peers' average"),
                _("vs peers"),
                _("Calibration alignment %"),
                _("Calibrations"),
            ]
        )
        for e in evaluators:
            writer.writerow(
                [
                    e.evaluator,
                    e.evaluations,
                    fmt(e.average_given),
                    fmt(e.peer_average),
                    fmt(e.versus_peers),
                    fmt(e.calibration_alignment),
                    e.calibration_sessions,
                ]
            )
    elif export == "coverage":
        writer.writerow([_("Agent"), _("Team"), _("Wanted"), _("Sampled"), _("Scored")])
        for c in coverage:
            writer.writerow([c.agent.display_name, c.team, c.wanted, c.sampled, c.scored])
    else:
        return HttpResponse(
            _("Unknown export."), status=400, content_type="text/plain; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="qa-{export}.csv"'
    return response


# --- Scorecard editing (drafts only) -------------------------------------------------------


def _editor(me) -> None:
    try:
        services.check_may_edit_scorecards(me)
    except PermissionDenied as exc:
        raise Http404 from exc


@login_required
def scorecard_new(request: HttpRequest) -> HttpResponse:
    me = request.user
    _editor(me)
    form = ScorecardNewForm(request.POST or None, person=me)
    if request.method == "POST":
        if form.is_valid():
            try:
                card = services.scorecard_create(actor=me, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("qa:scorecard-edit", scorecard_id=card.pk)
    return render(
        request,
        "qa/scorecard_new.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


def _editor_forms(card, me, data=None):
    card_form = ScorecardFieldsForm(
        data,
        person=me,
        initial={
            "name": card.name,
            "description": card.description,
            "department": card.department_id,
            "queue": card.queue_id,
            "auto_fail_mode": card.auto_fail_mode,
        },
    )
    sections = []
    for section in card.sections.prefetch_related("items"):
        s_form = SectionRowForm(
            data,
            prefix=f"section-{section.pk}",
            initial={
                "title": section.title,
                "weight": section.weight,
                "position": section.position,
            },
        )
        item_forms = [
            (
                item,
                ItemRowForm(
                    data,
                    prefix=f"item-{item.pk}",
                    initial={f: getattr(item, f) for f in services.ITEM_FIELDS},
                ),
            )
            for item in section.items.all()
        ]
        new_item = ItemRowForm(
            data,
            prefix=f"new-item-{section.pk}",
            use_required_attribute=False,
            initial={"kind": "yes_no", "max_points": 1, "weight": 1},
        )
        sections.append((section, s_form, item_forms, new_item))
    new_section = SectionRowForm(
        data, prefix="new-section", use_required_attribute=False, initial={"weight": 1}
    )
    return card_form, sections, new_section


def _sent(form) -> set[str]:
    return {name for name in form.fields if form.add_prefix(name) in form.data}


def _partial(form) -> set[str]:
    """The fields of `form` that were sent; the others are neither required nor changed."""
    sent = _sent(form)
    for name, field in form.fields.items():
        if name not in sent:
            field.required = False
    return sent


def _row(form, sent: set[str]) -> dict:
    row = {k: v for k, v in form.cleaned_data.items() if k in sent and k != "delete"}
    if "position" in row:
        row["position"] = row["position"] or 0
    return row


def _filled(form, field) -> bool:
    return bool((form.data.get(form.add_prefix(field)) or "").strip())


@login_required
def scorecard_edit(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Edit a draft version: its fields, sections and criteria in one form."""
    me = request.user
    _editor(me)
    card = selectors.scorecard_get_for(me, scorecard_id)
    if not card.is_editable:
        raise Http404
    data = request.POST if request.method == "POST" else None
    card_form, sections, new_section = _editor_forms(card, me, data)
    errors: list[str] = []
    if data is not None:
        # Only what was sent changes: a row or field left out of the POST stays as it is.
        card_sent = _partial(card_form)
        forms_ok = card_form.is_valid()
        anything_sent = bool(card_sent)
        section_rows, item_rows = [], []
        for section, s_form, item_forms, new_item in sections:
            s_sent = _partial(s_form)
            if s_sent:
                anything_sent = True
                if s_form.is_valid():
                    section_rows.append(
                        {
                            "id": section.pk,
                            "delete": bool(s_form.cleaned_data.get("delete")),
                            **_row(s_form, s_sent),
                        }
                    )
                else:
                    forms_ok = False
            for item, i_form in item_forms:
                i_sent = _partial(i_form)
                if not i_sent:
                    continue
                anything_sent = True
                if i_form.is_valid():
                    item_rows.append(
                        {
                            "id": item.pk,
                            "delete": bool(i_form.cleaned_data.get("delete")),
                            **_row(i_form, i_sent),
                        }
                    )
                else:
                    forms_ok = False
            if _filled(new_item, "text"):
                anything_sent = True
                if new_item.is_valid():
                    row = _row(new_item, _sent(new_item))
                    row["position"] = row.get("position") or len(item_forms)
                    item_rows.append({"section_id": section.pk, **row})
                else:
                    forms_ok = False
        if _filled(new_section, "title"):
            anything_sent = True
            if new_section.is_valid():
                row = _row(new_section, _sent(new_section))
                row["position"] = row.get("position") or len(sections)
                section_rows.append(row)
            else:
                forms_ok = False
        if not anything_sent:
            errors.append(_("Nothing to change."))
            forms_ok = False
        if forms_ok:
            try:
                services.scorecard_draft_apply(
                    scorecard=card,
                    actor=me,
                    fields={k: v for k, v in card_form.cleaned_data.items() if k in card_sent},
                    sections=section_rows,
                    items=item_rows,
                )
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _("Draft saved."))
                return redirect("qa:scorecard-edit", scorecard_id=card.pk)
        elif not errors:
            errors.append(_("Check the highlighted fields."))
    return render(
        request,
        "qa/scorecard_edit.html",
        {
            "scorecard": card,
            "card_form": card_form,
            "sections": sections,
            "new_section": new_section,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
