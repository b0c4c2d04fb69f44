"""The targets page (센터장: center, departments and teams; 매니저: their departments and
teams): what is in effect in a month, a form to set a value from a month on, the history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import SINCE_THE_START, TargetMetric
from agents.targets import selectors, services
from agents.targets.forms import TargetForm, format_target
from callcenter.clock import month_start
from callcenter.inputs import BUSINESS_YEARS, parse_month


def _grid(units, month) -> list[dict]:
    """One row per unit: per metric the value in effect in `month`, and whether it is the
    unit's own or inherited (and from where)."""
    resolved = selectors.target_rows_resolved([(u.kind, u.id) for u in units], on=month)
    rows = []
    for unit in units:
        by_metric = resolved.get((unit.kind, unit.id), {})
        cells = []
        for metric in TargetMetric:
            row = by_metric.get(metric.value)
            source = selectors.target_unit_key(row) if row else None
            cells.append(
                {
                    "metric": metric.value,
                    "text": format_target(metric.value, row.value if row else None),
                    "own": source == (unit.kind, unit.id),
                    "from": row,
                }
            )
        rows.append({"unit": unit, "cells": cells})
    return rows


@login_required
def targets_page(request: HttpRequest) -> HttpResponse:
    units = selectors.target_units_for(request.user)  # 403 for agents and team leads
    this_month = month_start(timezone.localdate())
    month = this_month
    if request.GET.get("month"):
        month = parse_month(request.GET["month"], years=BUSINESS_YEARS)
        if month is None:
            return HttpResponseBadRequest(
                _("Give the month as YYYY-MM."), content_type="text/plain"
            )
    status = 200
    if request.method == "POST":
        form = TargetForm(request.POST, units=units, this_month=this_month)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.target_set(
                    actor=request.user,
                    unit_key=data["unit"],
                    metric=data["metric"],
                    value=data["value"],
                    effective_from=data["month"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(f"{request.path}?month={data['month']:%Y-%m}")
        status = 422
    else:
        form = TargetForm(
            initial={"month": f"{max(month, this_month):%Y-%m}", "unit": units[0].key}
            if units
            else {},
            units=units,
            this_month=this_month,
        )
    history = [
        {
            "row": t,
            "text": format_target(t.metric, t.value),
            "since_the_start": t.effective_from <= SINCE_THE_START,
        }
        for t in selectors.target_history_for(request.user)[:200]
    ]
    return render(
        request,
        "agents/targets.html",
        {
            "form": form,
            "grid": _grid(units, month),
            "metrics": TargetMetric,
            "month": month,
            "history": history,
        },
        status=status,
    )
