"""The scorecard editor changes only what it was sent: a field, a section or a criterion
left out of the POST stays as it is (an unticked box still arrives as a hidden 0), and an
empty POST changes nothing."""

from django.urls import reverse

from qa.models import ScorecardItem
from qa.services.scorecards import scorecard_new_version


def draft_of(card, org):
    draft = scorecard_new_version(scorecard=card, actor=org.trainer)
    draft.description = "상담 품질 기본 평가표"
    draft.department = org.general
    draft.save()
    item = ScorecardItem.objects.filter(section__scorecard=draft).first()
    item.allow_na, item.guidance = True, "고객 이름을 부른다"
    item.save()
    return draft, item


def test_a_post_with_only_the_name_keeps_the_rest(client, org, card):
    draft, item = draft_of(card, org)
    sections = {s.pk: (s.title, s.weight) for s in draft.sections.all()}
    client.force_login(org.trainer)
    url = reverse("qa:scorecard-edit", args=[draft.pk])
    assert client.post(url, {"name": "새 이름"}).status_code == 302
    draft.refresh_from_db()
    item.refresh_from_db()
    assert (draft.name, draft.description, draft.department_id) == (
        "새 이름",
        "상담 품질 기본 평가표",
        org.general.pk,
    )
    assert {s.pk: (s.title, s.weight) for s in draft.sections.all()} == sections
    assert (item.allow_na, item.guidance) == (True, "고객 이름을 부른다")


def test_a_criterion_posted_without_its_boxes_keeps_them_and_a_hidden_zero_clears(
    client, org, card
):
    draft, item = draft_of(card, org)
    client.force_login(org.trainer)
    url = reverse("qa:scorecard-edit", args=[draft.pk])
    page = client.get(url).content.decode()
    assert f'<input type="hidden" name="item-{item.pk}-allow_na" value="0">' in page
    assert client.post(url, {f"item-{item.pk}-weight": "3"}).status_code == 302
    item.refresh_from_db()
    assert (item.weight, item.allow_na, item.text) == (3, True, item.text)
    assert client.post(url, {f"item-{item.pk}-allow_na": "0"}).status_code == 302
    item.refresh_from_db()
    assert item.allow_na is False


def test_an_empty_editor_post_changes_nothing(client, org, card):
    draft, item = draft_of(card, org)
    client.force_login(org.trainer)
    url = reverse("qa:scorecard-edit", args=[draft.pk])
    assert client.post(url, {}).status_code == 400
    draft.refresh_from_db()
    item.refresh_from_db()
    assert (draft.description, item.allow_na) == ("상담 품질 기본 평가표", True)
