"""Calibration sessions: list, a new session on a call, the blind results."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from agents.roles import can
from qa.forms import CalibrationForm
from qa.selectors.calibration import calibration_get_for, calibration_result, calibrations_for
from qa.services.calibration import calibration_create, calibration_reveal
from telephony.selectors import calls_visible_to


@login_required
@require_GET
def calibration_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "qa/calibration_list.html",
        {"sessions": calibrations_for(request.user)[:100]},
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
                session = calibration_create(
                    actor=me,
                    call=call,
                    participants=form.cleaned_data["participants"],
                    title=form.pii_raw["title"],
                    pii_confirmed=form.pii_confirmed,
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
    session = calibration_get_for(me, session_id)
    error = ""
    if request.method == "POST":
        try:
            calibration_reveal(session=session, actor=me)
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
        "result": calibration_result(session) if session.revealed_at else None,
        "error": error,
    }
    return render(request, "qa/calibration.html", context, status=400 if error else 200)
