from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.models import Role
from agents.roles import can
from callcenter.clock import day_bounds, month_start
from callcenter.inputs import BUSINESS_YEARS, parse_id, parse_month
from callcenter.pii import PII_MESSAGE, PiiBlocked
from kpi import closing, exports, performance
from kpi.dashboards import dashboard_for
from kpi.forms import DrillForm, KpiFilterForm, KpiFilters
from kpi.models import FillState, PerformanceMonth
from kpi.selectors.drilldown import calls_behind
from kpi.selectors.rows import kpi_scope_get_for
from tickets.forms import PiiCheck


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The viewer's role dashboard over a date range (default today), from rollups only;
    ?export=csv|xlsx downloads its table."""
    form = KpiFilterForm(request.user, request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "kpi/dashboard.html", {"form": form}, status=400)
    if not request.GET:  # today, shown in the date fields
        today = timezone.localdate().isoformat()
        form = KpiFilterForm(request.user, {"start": today, "end": today})
        form.is_valid()
    filters = form.filters()
    context = dashboard_for(request.user, filters)
    export = request.GET.get("export")
    if export in {"csv", "xlsx"}:
        name = f"kpi-{filters.first_day:%Y%m%d}-{filters.last_day:%Y%m%d}"
        table = exports.kpi_table(context["rows"], person=request.user, filters=form.cleaned_data)
        return table.response(export, name, sheet_title="KPI")
    context.update(
        form=form,
        f=filters,
        filled_at=FillState.objects.aggregate(at=Max("last_run_at"))["at"],
    )
    template = (
        "kpi/dashboard.html#table" if getattr(request, "htmx", False) else "kpi/dashboard.html"
    )
    return render(request, template, context)


@login_required
def calls_drilldown(request: HttpRequest) -> HttpResponse:
    """The calls behind one number of the dashboard (404 outside the viewer's scope)."""
    form = DrillForm(request.GET)
    if not form.is_valid():
        return render(request, "kpi/calls.html", {"form": form}, status=400)
    data = form.cleaned_data
    scope = kpi_scope_get_for(request.user, data["kind"], data["id"])
    f = KpiFilters(first_day=data["start"], last_day=data["end"])
    start, end = day_bounds(f.first_day)[0], day_bounds(f.last_day)[1]
    calls = calls_behind(request.user, scope, data["metric"], start=start, end=end)
    page = Paginator(calls, 50).get_page(data.get("page") or 1)
    return render(
        request,
        "kpi/calls.html",
        {"form": form, "scope": scope, "metric": data["metric"], "page": page, "f": f},
    )


# --- Monthly performance sheets -----------------------------------------------------------------


def _month_param(request: HttpRequest):
    """The month of ?month=YYYY-MM (this month when absent), or a 400 response. Months
    outside 2000–2100 are refused: a crafted POST once closed 1900-01."""
    raw = request.GET.get("month") or request.POST.get("month")
    if not raw:
        return month_start(), None
    month = parse_month(raw, years=BUSINESS_YEARS)
    if month is not None:
        return month, None
    message = _("Give the month as YYYY-MM, from %(first)d to %(last)d.") % {
        "first": BUSINESS_YEARS[0],
        "last": BUSINESS_YEARS[1],
    }
    return None, HttpResponseBadRequest(message, content_type="text/plain")


def _sheets_page(request: HttpRequest, month, *, status=200, **extra) -> HttpResponse:
    sheets = list(performance.performance_sheets_visible_to(request.user, month))
    record = PerformanceMonth.objects.filter(month=month).first()
    export = request.GET.get("export")
    if export in {"csv", "xlsx"}:
        table = exports.performance_sheet_table(
            sheets, person=request.user, month=month, record=record
        )
        return table.response(export, f"evaluation-{month:%Y%m}", sheet_title=f"{month:%Y-%m}")
    left = closing.days_left(month, timezone.localdate())
    context = {
        "sheets": sheets,
        "month": month,
        "record": record,
        "events": closing.month_events(record),
        "days_left": left,
        "started": month <= timezone.localdate(),
        "export_query": urlencode({"month": f"{month:%Y-%m}"}),
        "can_compute": can(request.user, "compute_performance_sheets"),
        "can_close": closing.may_close(request.user),
        "min_share": round(settings.KPI_EVALUATION_MIN_SHARE * 100),
        **extra,
    }
    return render(request, "kpi/sheet_list.html", context, status=status)


@login_required
def sheet_list(request: HttpRequest) -> HttpResponse:
    """The month's sheets the viewer may see, ranked; an agent goes to their own sheet.
    ?export=csv|xlsx downloads them."""
    month, error = _month_param(request)
    if error:
        return error
    if request.user.role == Role.AGENT:
        own = performance.performance_sheets_visible_to(request.user, month).first()
        if own is not None:
            return redirect("kpi:sheet", own.pk)
    return _sheets_page(request, month)


def _back_to(month) -> HttpResponse:
    return redirect(f"{reverse('kpi:sheets')}?month={month:%Y-%m}")


@login_required
@require_POST
def sheets_compute(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "compute_performance_sheets"):
        raise PermissionDenied
    month, error = _month_param(request)
    if error:
        return error
    try:
        performance.performance_sheets_compute(month=month)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=409, content_type="text/plain")
    return _back_to(month)


@login_required
@require_POST
def month_close(request: HttpRequest) -> HttpResponse:
    """Close the month; before its end only with the days left confirmed (the page asks)."""
    if not closing.may_close(request.user):
        raise PermissionDenied
    month, error = _month_param(request)
    if error:
        return error
    raw = request.POST.get("confirm_days_left")
    confirm = parse_id(raw) if raw else None
    try:
        closing.performance_month_close(person=request.user, month=month, confirm_days_left=confirm)
    except ValidationError as exc:
        status = 409 if exc.code not in {"early", "future"} else 400
        return _sheets_page(
            request, month, status=status, close_error=" ".join(exc.messages), confirming=True
        )
    return _back_to(month)


@login_required
@require_POST
def month_reopen(request: HttpRequest) -> HttpResponse:
    """Reopen a closed month with a reason (audited)."""
    if not closing.may_close(request.user):
        raise PermissionDenied
    month, error = _month_param(request)
    if error:
        return error
    reason = request.POST.get("reason", "")
    try:
        closing.performance_month_reopen(person=request.user, month=month, reason=reason)
    except ValidationError as exc:
        status = 409 if exc.code == "open" else 400
        return _sheets_page(
            request, month, status=status, reopen_error=" ".join(exc.messages), reason=reason
        )
    return _back_to(month)


@login_required
def sheet_detail(request: HttpRequest, sheet_id: int) -> HttpResponse:
    """One agent's sheet with how each figure was computed; their 실장 may comment."""
    sheet = performance.performance_sheet_get_for(request.user, sheet_id)
    status = 200
    error = ""
    pii = None
    text = sheet.lead_comment
    if request.method == "POST":
        text = request.POST.get("comment", "")
        pii = PiiCheck(
            {"comment": text},
            labels={"comment": _("Team lead's comment")},
            action=request.POST.get("pii_action", ""),
        )
        if len(text) > 2000:
            error, status = _("The comment is too long (at most 2,000 characters)."), 400
        else:
            try:
                performance.performance_sheet_comment(
                    person=request.user,
                    sheet_id=sheet.pk,
                    text=pii.raw["comment"],
                    pii_confirmed=pii.confirmed,
                )
            except PiiBlocked:
                error, status = PII_MESSAGE, 422
            except ValidationError as exc:
                error, status = " ".join(exc.messages), 409
            else:
                return redirect("kpi:sheet", sheet.pk)
    can_comment = (
        request.user.role == Role.TEAM_LEAD
        and request.user.team_id == sheet.team_id
        and not sheet.month.is_closed
    )
    return render(
        request,
        "kpi/sheet.html",
        {
            "sheet": sheet,
            "can_comment": can_comment,
            "error": error,
            "comment": text,
            "pii": pii if status == 422 else None,
        },
        status=status,
    )
