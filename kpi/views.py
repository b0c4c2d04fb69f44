from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kpi.models import FillState
from kpi.selectors import day_bounds, kpi_rows_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Today's handled calls, AHT and ASA for each unit the viewer may see."""
    start, end = day_bounds()
    rows = kpi_rows_for(request.user, start=start, end=end)
    fill = FillState.objects.filter(name="calls").first()
    context = {"rows": rows, "day": start, "filled_at": fill.last_run_at if fill else None}
    template = (
        "kpi/dashboard.html#table" if getattr(request, "htmx", False) else "kpi/dashboard.html"
    )
    return render(request, template, context)
