"""Scorecard versions: a published version is never edited; editing makes a new draft
version; publishing it retires the old one; evaluations keep the version they were scored
with; only a draft can be edited, in the app or the admin."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from qa.models import Evaluation, ScorecardItem, ScorecardStatus
from qa.scoring import Mark
from qa.services.evaluations import evaluation_save
from qa.services.sampling import evaluation_assign_manual
from qa.services.scorecards import scorecard_draft_apply, scorecard_new_version, scorecard_publish
from tests.factories import CallFactory


def full(card):
    return {
        i.pk: Mark(not_applicable=True) if i.bonus else Mark(value=i.max_points)
        for i in ScorecardItem.objects.filter(section__scorecard=card)
    }


def test_editing_a_published_scorecard_makes_a_new_version_and_old_scores_keep_theirs(org, card):
    old_eval = evaluation_assign_manual(
        actor=org.lead1, call=CallFactory(agent=org.agent1, recorded=True), evaluator=org.lead1
    )
    evaluation_save(evaluation=old_eval, actor=org.lead1, marks=full(card), submit=True)
    with pytest.raises(ValidationError):
        scorecard_publish(scorecard=card, actor=org.trainer)  # already published
    with pytest.raises(ValidationError):
        scorecard_draft_apply(scorecard=card, actor=org.trainer, fields={"name": "x"})
    draft = scorecard_new_version(scorecard=card, actor=org.trainer)
    assert (draft.version, draft.status) == (2, ScorecardStatus.DRAFT)
    assert scorecard_new_version(scorecard=card, actor=org.trainer) == draft  # one draft
    assert ScorecardItem.objects.filter(section__scorecard=draft).count() == 11
    greeting = ScorecardItem.objects.get(section__scorecard=draft, text__startswith="첫인사")
    scorecard_draft_apply(
        scorecard=draft,
        actor=org.trainer,
        fields={"name": "표준 통화 평가표 (개정)"},
        items=[{"id": greeting.pk, "weight": 3.0, "text": "첫인사·소속·이름"}],
    )
    scorecard_publish(scorecard=draft, actor=org.trainer)
    card.refresh_from_db()
    draft.refresh_from_db()
    assert card.status == ScorecardStatus.RETIRED and draft.status == ScorecardStatus.PUBLISHED
    # New samples use v2; the old evaluation still points at v1 with its score.
    new_eval = evaluation_assign_manual(
        actor=org.lead1, call=CallFactory(agent=org.agent1, recorded=True), evaluator=org.lead1
    )
    assert new_eval.scorecard == draft
    old_eval.refresh_from_db()
    assert old_eval.scorecard == card and old_eval.score == pytest.approx(100.0)
    assert ScorecardItem.objects.get(pk=greeting.pk).weight == 3.0
    assert (
        ScorecardItem.objects.filter(section__scorecard=card, text__startswith="첫인사")
        .get()
        .weight
        == 1.0
    )


def editor_data(card):
    """What the editor form posts for a draft as it is."""
    data = {
        "name": card.name,
        "description": card.description,
        "department": card.department_id or "",
        "queue": card.queue_id or "",
        "auto_fail_mode": card.auto_fail_mode,
    }
    for section in card.sections.all():
        p = f"section-{section.pk}"
        data.update(
            {
                f"{p}-title": section.title,
                f"{p}-weight": section.weight,
                f"{p}-position": section.position,
            }
        )
        for item in section.items.all():
            p = f"item-{item.pk}"
            data.update(
                {
                    f"{p}-text": item.text,
                    f"{p}-kind": item.kind,
                    f"{p}-max_points": item.max_points,
                    f"{p}-weight": item.weight,
                    f"{p}-compliance": item.compliance,
                    f"{p}-position": item.position,
                }
            )
            for flag in ("allow_na", "auto_fail", "bonus"):
                if getattr(item, flag):
                    data[f"{p}-{flag}"] = "on"
    return data


def test_the_draft_editor_page(client, org, card):
    draft = scorecard_new_version(scorecard=card, actor=org.trainer)
    url = reverse("qa:scorecard-edit", args=[draft.pk])
    client.force_login(org.lead1)
    assert client.get(url).status_code == 404  # only QA staff edit
    client.force_login(org.trainer)
    page = client.get(url)
    assert page.status_code == 200
    section = draft.sections.first()
    item = section.items.first()
    data = editor_data(draft)
    data.update(
        {
            "auto_fail_mode": "section",
            f"section-{section.pk}-title": "인사",
            f"section-{section.pk}-weight": "2",
            f"item-{item.pk}-delete": "on",
            f"new-item-{section.pk}-text": "명확한 발음",
            f"new-item-{section.pk}-kind": "scale",
            f"new-item-{section.pk}-max_points": "5",
            f"new-item-{section.pk}-weight": "1",
            "new-section-title": "마무리",
            "new-section-weight": "1",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    section.refresh_from_db()
    assert draft.auto_fail_mode == "section" and section.title == "인사" and section.weight == 2
    assert not ScorecardItem.objects.filter(pk=item.pk).exists()
    assert section.items.filter(text="명확한 발음", kind="scale", max_points=5).exists()
    assert draft.sections.filter(title="마무리").exists()
    # Bad input: a form error, nothing changes.
    bad = client.post(url, {**data, f"section-{section.pk}-weight": "-1", "new-section-title": ""})
    assert bad.status_code == 400
    section.refresh_from_db()
    assert section.weight == 2
    # Once published, the editor is closed.
    scorecard_publish(scorecard=draft, actor=org.trainer)
    assert client.get(url).status_code == 404
    assert Evaluation.objects.count() == 0


def test_a_new_scorecard_family_for_a_department(client, org, card):
    client.force_login(org.trainer)
    response = client.post(
        reverse("qa:scorecard-new"),
        {"name": "해지 방어 평가표", "family": "retention", "department": org.signup.pk},
    )
    assert response.status_code == 302
    client.force_login(org.manager)
    assert client.post(reverse("qa:scorecard-new"), {"name": "x", "family": "x"}).status_code == 404
    with pytest.raises(PermissionDenied):
        from qa.services.scorecards import scorecard_create

        scorecard_create(actor=org.agent1, name="x", family="y")
