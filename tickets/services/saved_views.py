"""Saved ticket searches."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from callcenter.pii import pii_guard, pii_scan
from tickets.models import (
    SavedView,
)
from tickets.services.pii_detections import pii_detections_record


def _query_values(query: str) -> list[str]:
    return [v for _key, values in QueryDict(query[:500]).lists() for v in values]


def saved_view_save(
    *, owner: Person, name: str, query: str, pii_confirmed: bool = False
) -> SavedView:
    """A search kept under a name. The name is free text as written: the PII guard reads
    it (`pii_confirmed`: store it masked)."""
    guarded = pii_guard({"name": name}, confirmed=pii_confirmed)
    name = guarded.texts["name"].strip()[:60]
    if not name:
        raise ValidationError(_("Name the view."))
    # The query is kept to be run again, so it cannot be stored masked: a search for
    # someone's phone, card or registration number is not kept at all.
    found = [f for value in _query_values(query) for f in pii_scan(value)]
    if found:
        raise ValidationError(
            _(
                "This search holds personal data (%(found)s) and cannot be saved. Search by "
                "the customer or case number (C-000123, T-000123) instead."
            )
            % {"found": ", ".join(f.masked for f in found)}
        )
    view, _created = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query[:500]}
    )
    pii_detections_record(
        agent=owner, call=None, ticket=None, found=guarded.found(), at=timezone.now()
    )
    return view
