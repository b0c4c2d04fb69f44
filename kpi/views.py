from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kpi import exports
from kpi.dashboards import dashboard_for
from kpi.forms import DrillForm, KpiFilterForm, KpiFilters
from kpi.models import FillState
from kpi.selectors import calls_behind, day_bounds, kpi_scope_get_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The viewer's role dashboard over a date range (default today), from rollups only;
    ?export=csv|xlsx downloads its table."""
    form = KpiFilterForm(request.user, request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "kpi/dashboard.html", {"form": form}, status=400)
    if not request.GET:
        form = KpiFilterForm(request.user, {})
        form.is_valid()
    filters = form.filters()
    context = dashboard_for(request.user, filters)
    export = request.GET.get("export")
    if export in {"csv", "xlsx"}:
        name = f"kpi-{filters.first_day:%Y%m%d}-{filters.last_day:%Y%m%d}"
        respond = exports.csv_response if export == "csv" else exports.xlsx_response
        return respond(context["rows"], name)
    fill = FillState.objects.filter(name="calls").first()
    context.update(
        form=form,
        f=filters,
        filled_at=fill.last_run_at if fill else None,
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
