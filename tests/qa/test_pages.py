"""Every QA page answers every role: 200 where they may look, 404 where they may not, and
never a 500."""

import pytest
from django.urls import reverse

from qa.models import CalibrationSession, Evaluation
from qa.services.calibration import calibration_create
from qa.services.coaching import coaching_plan_create
from qa.services.sampling import sample_run_execute, sample_run_start
from qa.services.scorecards import scorecard_new_version
from tests.factories import CallFactory


@pytest.fixture
def world(org, card, month_calls, this_month):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    draft = scorecard_new_version(scorecard=card, actor=org.trainer)
    ev = Evaluation.objects.filter(agent=org.agent1).first()
    from datetime import date

    plan = coaching_plan_create(
        actor=org.lead1,
        agent=org.agent1,
        goals="g",
        due_date=date(2099, 1, 1),
        follow_up_date=date(2099, 2, 1),
        tasks=[("t", None)],
    )
    session = calibration_create(
        actor=org.trainer,
        call=CallFactory(agent=org.agent2, recorded=True),
        participants=[org.lead1],
        title="c",
    )
    return {"run": run, "draft": draft, "ev": ev, "plan": plan, "session": session}


PAGES = [
    ("qa:home", None),
    ("qa:recordings", None),
    ("qa:sampling", None),
    ("qa:sampling-progress", "run"),
    ("qa:evaluation", "ev"),
    ("qa:coaching", None),
    ("qa:coaching-plan", "plan"),
    ("qa:calibrations", None),
    ("qa:calibration", "session"),
    ("qa:scorecards", None),
    ("qa:scorecard", "card"),
    ("qa:scorecard", "draft"),
    ("qa:scorecard-edit", "draft"),
    ("qa:scorecard-new", None),
    ("qa:reports", None),
    ("qa:coaching-new", "ev"),
]

# Expected status per role (agent1, lead1, lead2, manager1, trainer1, director).
EXPECTED = {
    "qa:home": (200, 200, 200, 200, 200, 200),
    "qa:recordings": (200, 200, 200, 200, 200, 200),
    "qa:sampling": (404, 404, 404, 200, 200, 200),
    "qa:sampling-progress": (404, 404, 404, 404, 200, 200),
    "qa:evaluation": (404, 200, 404, 200, 200, 200),
    "qa:coaching": (200, 200, 200, 200, 200, 200),
    "qa:coaching-plan": (200, 200, 404, 200, 200, 200),
    "qa:calibrations": (200, 200, 200, 200, 200, 200),
    "qa:calibration": (404, 200, 404, 404, 200, 200),
    "qa:scorecards": (200, 200, 200, 200, 200, 200),
    "qa:scorecard": (200, 200, 200, 200, 200, 200),
    "qa:scorecard-edit": (404, 404, 404, 404, 200, 200),
    "qa:scorecard-new": (404, 404, 404, 404, 200, 200),
    "qa:reports": (404, 200, 200, 200, 200, 200),
    "qa:coaching-new": (404, 200, 404, 200, 200, 200),
}


def test_every_page_for_every_role(client, org, card, world):
    people = [org.agent1, org.lead1, org.lead2, org.manager, org.trainer, org.director]
    objects = {**world, "card": card}
    for name, key in PAGES:
        args = [objects[key].pk] if key else []
        url = reverse(name, args=args)
        for person, expected in zip(people, EXPECTED[name], strict=True):
            client.force_login(person)
            status = client.get(url).status_code
            assert status == expected, f"{person.username} {name}: {status}"
    assert CalibrationSession.objects.count() == 1
