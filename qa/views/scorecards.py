"""Scorecards: the list, a version, and editing a draft version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agents.roles import can
from qa.forms import ItemRowForm, ScorecardFieldsForm, ScorecardNewForm, SectionRowForm
from qa.selectors.scorecards import scorecard_families, scorecard_get_for
from qa.services.scorecards import (
    ITEM_FIELDS,
    check_may_edit_scorecards,
    scorecard_create,
    scorecard_draft_apply,
    scorecard_new_version,
    scorecard_publish,
)


@login_required
@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "qa/scorecards.html",
        {"families": scorecard_families(request.user)},
    )


@login_required
def scorecard_detail(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    me = request.user
    scorecard = scorecard_get_for(me, scorecard_id)
    may_edit = can(me, "edit_scorecards")
    error = ""
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "publish":
                scorecard_publish(scorecard=scorecard, actor=me)
                return redirect("qa:scorecard", scorecard_id=scorecard.pk)
            if request.POST.get("action") == "new_version":
                new = scorecard_new_version(scorecard=scorecard, actor=me)
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


def _editor(me) -> None:
    try:
        check_may_edit_scorecards(me)
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
                card = scorecard_create(actor=me, **form.cleaned_data)
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
                    initial={f: getattr(item, f) for f in ITEM_FIELDS},
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
    card = scorecard_get_for(me, scorecard_id)
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
                scorecard_draft_apply(
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
