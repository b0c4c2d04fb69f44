"""Scorecards: the versions a person may see, and a version as the scoring reads it."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import Person
from agents.reach import departments_visible_to
from qa.models import Scorecard, ScorecardItem, ScorecardSection, ScorecardStatus
from qa.scoring import ItemSpec, SectionSpec


def scorecard_specs(scorecard_id: int) -> tuple[SectionSpec, ...]:
    sections = ScorecardSection.objects.filter(scorecard_id=scorecard_id).prefetch_related("items")
    return tuple(
        SectionSpec(
            id=s.pk,
            weight=s.weight,
            items=tuple(_item_spec(i) for i in s.items.all()),
        )
        for s in sections
    )


def _item_spec(item: ScorecardItem) -> ItemSpec:
    return ItemSpec(
        id=item.pk,
        max_points=item.max_points,
        weight=item.weight,
        auto_fail=item.auto_fail,
        bonus=item.bonus,
        compliance=item.compliance,
        allow_na=item.allow_na,
    )


def scorecards_visible_to(person: Person) -> QuerySet[Scorecard]:
    """Everyone sees the scorecards they are scored or score against: their center's
    center-wide ones and those of departments they work in or see."""
    dept_ids = set(departments_visible_to(person).values_list("pk", flat=True))
    if person.department_id:
        dept_ids.add(person.department_id)
    return Scorecard.objects.filter(
        Q(department__isnull=True) | Q(department_id__in=dept_ids)
    ).select_related("department", "queue")


def scorecard_get_for(person: Person, scorecard_id: int) -> Scorecard:
    scorecard = scorecards_visible_to(person).filter(pk=scorecard_id).first()
    if scorecard is None:
        raise Http404
    return scorecard


def scorecard_families(person: Person) -> list[list[Scorecard]]:
    """Versions grouped by family, newest first."""
    families: dict[str, list[Scorecard]] = defaultdict(list)
    for card in scorecards_visible_to(person).order_by("family", "-version"):
        families[card.family].append(card)
    return list(families.values())


def published_scorecards() -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(status=ScorecardStatus.PUBLISHED)
