"""make run's first two steps: seed_demo builds the demo center (once; a second run only resets
the demo passwords) and demo_logins prints the logins a newcomer signs in with."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from agents.models import Center, Person, Role
from demo.management.commands.demo_logins import DEMO
from demo.seed.org import CENTER_NAME, DEMO_LOGINS
from telephony.models import Call, IvrMenu

pytestmark = pytest.mark.django_db


def test_the_demo_is_seeded_once_and_its_logins_are_printed():
    out = StringIO()
    call_command("seed_demo", days=1, calls_per_day=20, customers=30, stdout=out)
    center = Center.objects.get(name=CENTER_NAME)
    assert set(DEMO_LOGINS) <= set(Person.objects.values_list("username", flat=True))
    assert Person.objects.get(username="agent1").role == Role.AGENT
    assert Person.objects.get(username="agent1").check_password(settings.DEMO_PASSWORD)
    assert IvrMenu.objects.filter(center=center).exists()
    # agent2 is kept out of the replayed history: their KPI starts with the calls taken live.
    assert not Call.objects.filter(agent__username__in=["agent2"]).exists()
    assert "Seeded" in out.getvalue()

    people, calls = Person.objects.count(), Call.objects.count()
    Person.objects.filter(username="agent1").update(password="")
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "Demo already seeded" in again.getvalue()
    assert (Person.objects.count(), Call.objects.count()) == (people, calls)
    assert Person.objects.get(username="agent1").check_password(settings.DEMO_PASSWORD)

    logins = StringIO()
    call_command("demo_logins", stdout=logins)
    printed = logins.getvalue()
    assert settings.PUBLIC_BASE_URL in printed and settings.DEMO_PASSWORD in printed
    for username, what in DEMO:
        assert f"{username:<10} {what}" in printed
