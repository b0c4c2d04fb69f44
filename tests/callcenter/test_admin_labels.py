"""The admin speaks the user's language: app, model and field names are translatable
(verbose_name everywhere), and raw codes are shown as
labels."""

import pytest
from django.apps import apps
from django.utils import timezone, translation
from django.utils.functional import Promise

from callcenter.pii import PII_KINDS
from tests.factories import TicketFactory
from tickets.models import PiiDetection
from tickets.services.tickets import ticket_note_add

APPS = ["agents", "telephony", "tickets", "qa", "kpi", "privacy", "demo"]


@pytest.mark.parametrize("label", APPS)
def test_apps_models_and_fields_have_verbose_names(label):
    # A translatable (lazy) name, not one Django derived from the Python name.
    config = apps.get_app_config(label)
    assert isinstance(config.verbose_name, Promise)
    for model in config.get_models():
        meta = model._meta
        assert isinstance(meta.verbose_name, Promise), model.__name__
        for field in meta.get_fields():
            if getattr(field, "concrete", False) and not field.auto_created:
                assert isinstance(field.verbose_name, Promise), f"{model.__name__}.{field.name}"


@pytest.fixture
def admin_client(client, org):
    from agents.models import Person, Role

    boss = Person.objects.create_superuser(
        "boss", password="x", display_name="관리자", role=Role.ADMIN, center=org.center
    )
    client.force_login(boss)
    return client


def test_raw_codes_show_as_labels_in_the_admin(admin_client, org):
    ticket = TicketFactory(team=org.team_a)
    ticket_note_add(actor=org.agent1, ticket=ticket, body="안내")
    PiiDetection.objects.create(
        agent=org.agent1,
        ticket=ticket,
        field="note",
        kind="card",
        masked="4111-****",
        at=timezone.now(),
    )
    with translation.override("ko"):
        card, note_label = str(PII_KINDS["card"]), str(translation.gettext("Note"))
        added = translation.gettext("Added a note")
    body = admin_client.get("/admin/tickets/piidetection/").content.decode()
    assert f'<td class="field-kind_label">{card}</td>' in body
    assert f'<td class="field-field_label">{note_label}</td>' in body
    events = admin_client.get("/admin/tickets/ticketevent/").content.decode()
    assert added in events
    assert admin_client.get("/admin/telephony/simulatormessage/").status_code == 200
    assert admin_client.get("/admin/telephony/smsmessage/").status_code == 200
