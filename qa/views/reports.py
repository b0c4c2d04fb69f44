"""QA reports: scores, failed criteria, evaluators and coverage, on the page or as CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agents.models import Role
from callcenter.clock import month_start
from callcenter.exports import csv_writer
from qa.forms import ReportRangeForm, six_months_back
from qa.selectors.reports import (
    month_summary,
    report_coverage,
    report_evaluators,
    report_item_failures,
    report_scores,
)


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
    months, rows = report_scores(me, start=start, end=end, group=group)
    failures = report_item_failures(me, start=start, end=end)
    evaluators = report_evaluators(me, start=start, end=end)
    coverage = report_coverage(me, month=end)
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
            "summary": month_summary(me, end),
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
