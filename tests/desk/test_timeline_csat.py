"""Survey answers show in the customer's timeline, scoped like the calls they answer."""

from __future__ import annotations

import pytest
from django.utils import timezone

from desk.timeline import customer_timeline
from tests.factories import CallFactory, SurveyFactory
from tickets.models import Customer

pytestmark = pytest.mark.django_db


def test_a_survey_answer_is_in_the_timeline_of_those_who_may_see_its_call(org):
    customer = Customer.objects.create(phone="+821022223333", name="설문")
    own = CallFactory(agent=org.agent1, customer=customer, recorded=True)
    other_team = CallFactory(agent=org.agent3, customer=customer, recorded=True)
    for call, score in ((own, 4), (other_team, 2)):
        SurveyFactory(call=call, score=score, resolved=True, answered_at=timezone.now())
    seen = [i.obj.score for i in customer_timeline(org.agent1, customer) if i.kind == "csat"]
    assert seen == [4]
    only = customer_timeline(org.manager, customer, kinds={"csat"})
    assert sorted(i.obj.score for i in only) == [2, 4]
    assert {i.kind for i in only} == {"csat"}
