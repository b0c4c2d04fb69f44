"""Sampling runs: the form and the progress of a run."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from agents.models import Role
from agents.reach import departments_visible_to
from callcenter.inputs import parse_id
from qa.forms import SampleRunForm
from qa.models import SampleRun
from qa.selectors.sampling import sample_run_summary
from qa.services.sampling import check_may_sample, sample_run_start


@login_required
def sampling(request: HttpRequest) -> HttpResponse:
    me = request.user
    try:
        check_may_sample(me)
    except PermissionDenied as exc:
        raise Http404 from exc
    form = SampleRunForm(request.POST or None, person=me)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = sample_run_start(
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
            context.update(run=run, summary=sample_run_summary(run))
    return render(request, "qa/sampling.html", context, status=status)


@login_required
@require_GET
def sampling_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    me = request.user
    try:
        check_may_sample(me)
    except PermissionDenied as exc:
        raise Http404 from exc
    run = get_object_or_404(SampleRun, pk=run_id, center_id=me.center_id)
    if me.role == Role.MANAGER and not departments_visible_to(me).filter(pk=run.department_id):
        raise Http404
    if request.GET.get("part") == "result":
        summary = sample_run_summary(run)
        return render(request, "qa/sampling.html#run-result", {"run": run, "summary": summary})
    return render(request, "qa/sampling.html#run-row", {"run": run})
