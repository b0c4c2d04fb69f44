"""Scorecard versions: drafts, edits, publishing (checks: `check_may_edit_scorecards`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Department, Person
from agents.roles import can
from qa.models import (
    AutoFailMode,
    ComplianceTag,
    ItemKind,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardStatus,
)
from telephony.models import Call


def scorecard_publish(*, scorecard: Scorecard, actor: Person | None, at=None) -> Scorecard:
    """Publish a draft version; the version published before it is retired (its evaluations
    keep pointing at it)."""
    at = at or timezone.now()
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        if scorecard.status != ScorecardStatus.DRAFT:
            raise ValidationError(_("Only a draft version can be published."))
        items = ScorecardItem.objects.filter(section__scorecard=scorecard)
        if not items.filter(bonus=False).exists():
            raise ValidationError(_("A scorecard needs at least one scored (non-bonus) item."))
        if items.filter(kind=ItemKind.YES_NO).exclude(max_points=1).exists():
            raise ValidationError(_("Yes/no items score 0 or 1: set their maximum to 1."))
        Scorecard.objects.filter(family=scorecard.family, status=ScorecardStatus.PUBLISHED).update(
            status=ScorecardStatus.RETIRED
        )
        scorecard.status = ScorecardStatus.PUBLISHED
        scorecard.published_at = at
        scorecard.save(update_fields=["status", "published_at"])
    return scorecard


def scorecard_new_version(*, scorecard: Scorecard, actor: Person | None) -> Scorecard:
    """Editing a published scorecard: a new draft version with a copy of its sections and
    items. An existing draft of the family is returned instead of a second one."""
    with transaction.atomic():
        draft = Scorecard.objects.filter(
            family=scorecard.family, status=ScorecardStatus.DRAFT
        ).first()
        if draft:
            return draft
        latest = Scorecard.objects.filter(family=scorecard.family).order_by("-version").first()
        new = Scorecard.objects.create(
            family=scorecard.family,
            version=latest.version + 1,
            name=scorecard.name,
            description=scorecard.description,
            department=scorecard.department,
            queue=scorecard.queue,
            auto_fail_mode=scorecard.auto_fail_mode,
            created_by=actor,
        )
        for section in scorecard.sections.prefetch_related("items"):
            items = list(section.items.all())
            section.pk = None
            section.scorecard = new
            section.save()
            for item in items:
                item.pk = None
                item.section = section
                item.save()
    return new


CARD_FIELDS = {"name", "description", "department", "queue", "auto_fail_mode"}
SECTION_FIELDS = {"title", "weight", "position"}
ITEM_FIELDS = {
    "text",
    "guidance",
    "kind",
    "max_points",
    "weight",
    "allow_na",
    "auto_fail",
    "bonus",
    "compliance",
    "position",
}


def check_may_edit_scorecards(actor: Person) -> None:
    if not can(actor, "edit_scorecards"):
        raise PermissionDenied


def scorecard_create(
    *, actor: Person, name: str, family: str, department: Department | None = None
) -> Scorecard:
    """A new scorecard family: version 1, a draft with no sections yet."""
    check_may_edit_scorecards(actor)
    name, family = (name or "").strip(), (family or "").strip()
    if not name or not family:
        raise ValidationError(_("Give the scorecard a name and a key."))
    if Scorecard.objects.filter(family=family).exists():
        raise ValidationError(_("A scorecard with this key exists: edit it as a new version."))
    return Scorecard.objects.create(
        family=family, version=1, name=name[:120], department=department, created_by=actor
    )


def _item_errors(values: dict) -> list[str]:
    errors = []
    if "kind" in values and values["kind"] not in ItemKind.values:
        errors.append(_("Unknown criterion type."))
    if "max_points" in values and not values["max_points"] > 0:
        errors.append(_("A criterion's maximum must be more than 0."))
    if "weight" in values and values["weight"] < 0:
        errors.append(_("Weights cannot be negative."))
    if values.get("kind") == ItemKind.YES_NO and values.get("max_points", 1) != 1:
        errors.append(_("Yes/no items score 0 or 1: set their maximum to 1."))
    if values.get("kind") == ItemKind.SCALE and not float(values.get("max_points", 1)).is_integer():
        errors.append(_("A scale's maximum is a whole number."))
    if "compliance" in values and values["compliance"] not in ComplianceTag.values:
        errors.append(_("Unknown compliance tag."))
    if "text" in values and not (values["text"] or "").strip():
        errors.append(_("Every criterion needs a text."))
    return errors


def scorecard_draft_apply(
    *,
    scorecard: Scorecard,
    actor: Person,
    fields: Mapping | None = None,
    sections: Iterable[Mapping] = (),
    items: Iterable[Mapping] = (),
) -> Scorecard:
    """Edit a draft version in one transaction. `sections` and `items` are rows with an
    `id` (existing, of this draft), or none (new: a section needs a title, an item its
    `section_id`); `delete: True` removes the row. A published or retired version is never
    edited (ValidationError): make a new version."""
    check_may_edit_scorecards(actor)
    errors: list[str] = []
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        if card.status != ScorecardStatus.DRAFT:
            raise ValidationError(_("A published version cannot be edited: make a new version."))
        for key, value in (fields or {}).items():
            if key not in CARD_FIELDS:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": key})
            if key == "auto_fail_mode" and value not in AutoFailMode.values:
                errors.append(_("Unknown auto-fail option."))
            setattr(card, key, value)
        if not (card.name or "").strip():
            errors.append(_("Give the scorecard a name and a key."))
        own_sections = {s.pk: s for s in card.sections.all()}
        own_items = {i.pk: i for i in ScorecardItem.objects.filter(section__scorecard=card)}
        new_sections = []
        for row in sections:
            row = dict(row)
            pk = row.pop("id", None)
            delete = row.pop("delete", False)
            unknown = set(row) - SECTION_FIELDS
            if unknown:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": ", ".join(unknown)})
            if row.get("weight", 0) < 0:
                errors.append(_("Weights cannot be negative."))
            if pk is None:
                if not (row.get("title") or "").strip():
                    errors.append(_("A new section needs a title."))
                new_sections.append(row)
                continue
            section = own_sections.get(pk)
            if section is None:
                raise ValidationError(_("That section is not part of this draft."))
            if delete:
                section.delete()
                own_sections.pop(pk)
                continue
            for key, value in row.items():
                setattr(section, key, value)
            section.save()
        for row in items:
            row = dict(row)
            pk = row.pop("id", None)
            delete = row.pop("delete", False)
            section_id = row.pop("section_id", None)
            unknown = set(row) - ITEM_FIELDS
            if unknown:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": ", ".join(unknown)})
            if pk is None:
                if section_id not in own_sections:
                    raise ValidationError(_("That section is not part of this draft."))
                row.setdefault("kind", ItemKind.YES_NO)
                row.setdefault("max_points", 1)
                errors += _item_errors(row)
                if not errors:
                    ScorecardItem.objects.create(section_id=section_id, **row)
                continue
            item = own_items.get(pk)
            if item is None:
                raise ValidationError(_("That criterion is not part of this draft."))
            if delete:
                if item.section_id in own_sections:
                    item.delete()
                continue
            merged = {
                "kind": item.kind,
                "max_points": item.max_points,
                **row,
            }
            errors += _item_errors(merged)
            for key, value in row.items():
                setattr(item, key, value)
            if not errors and item.section_id in own_sections:
                item.save()
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(list(dict.fromkeys(errors)))
        for row in new_sections:
            ScorecardSection.objects.create(scorecard=card, **row)
        card.save()
    return card


def scorecard_for_call(call: Call) -> Scorecard | None:
    """The published scorecard for a call: its queue's, else its department's, else the
    center-wide one."""
    published = Scorecard.objects.filter(status=ScorecardStatus.PUBLISHED)
    return (
        published.filter(queue_id=call.queue_id).first()
        or published.filter(department_id=call.department_id, queue__isnull=True).first()
        or published.filter(department__isnull=True, queue__isnull=True).first()
    )
