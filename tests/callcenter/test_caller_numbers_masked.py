"""A caller's number is masked wherever it is shown: the KPI drill-down, /api/calls/, the
voicemail list, person pages and the desktop's list of unfinished wrap-ups. Only the live
screen pop (an offered or active call on the agent's desktop) and an audited Show give it
whole."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from telephony.models import CallPhase, Voicemail
from telephony.services.messages import voicemail_record
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import CallFactory
from tests.kpi.test_dashboards import today  # noqa: F401 - the seeded day of calls
from tickets.models import Customer, IdentifierView

# The caller of tests.kpi.test_dashboards' day of calls, as the center writes it, masked, and raw.
FULL = "010-1234-5678"
MASKED = "010-****-5678"
RAW = "+821012345678"


def assert_masked(body: str) -> None:
    assert MASKED in body
    assert FULL not in body and RAW not in body and "1012345678" not in body


def test_the_kpi_drill_down_masks_callers(client, org, today):  # noqa: F811
    client.force_login(org.director)
    day = today.date().isoformat()
    response = client.get(
        reverse("kpi:calls"),
        {"kind": "center", "id": org.center.pk, "metric": "offered", "start": day, "end": day},
    )
    assert response.status_code == 200 and response.context["page"].paginator.count == 6
    assert_masked(response.content.decode())


def test_the_calls_api_masks_callers(client, org):
    CallFactory(
        from_number=RAW,
        enqueued_at=timezone.now() - timedelta(hours=1),
        wait=5,
        agent=org.agent1,
        talk=60,
        acw=0,
    )
    client.force_login(org.lead1)
    response = client.get("/api/calls/")
    assert response.status_code == 200
    assert [c["from_number"] for c in response.json()] == [MASKED]
    assert_masked(response.content.decode())


def test_a_person_page_masks_their_callers(client, org):
    CallFactory(
        from_number=RAW,
        enqueued_at=timezone.now() - timedelta(hours=1),
        wait=5,
        agent=org.agent1,
        talk=60,
        acw=0,
    )
    client.force_login(org.lead1)
    response = client.get(reverse("desk:person-detail", args=[org.agent1.pk]))
    assert response.status_code == 200
    assert_masked(response.content.decode())


def test_the_desktops_unfinished_wrap_ups_mask_callers(client, org):
    call = CallFactory(
        from_number=RAW,
        enqueued_at=timezone.now() - timedelta(hours=1),
        wait=5,
        agent=org.agent2,
        talk=60,
        acw=10,
    )
    assert call.phase == CallPhase.COMPLETED and call.wrapup_submitted_at is None
    client.force_login(org.agent2)
    response = client.get(reverse("desk:desktop"))
    assert response.status_code == 200
    assert_masked(response.content.decode())


def test_the_live_screen_pop_still_shows_the_caller(client, org):
    make_available(org.agent1)
    call_receive(sid=new_call_sid(), from_number=RAW, to_number=GENERAL_NUMBER)
    acd_route()
    client.force_login(org.agent1)
    assert FULL in client.get(reverse("desk:desktop")).content.decode()
    assert FULL in client.get(reverse("desk:offer-alert")).content.decode()


def _voicemail(org, n: int, **extra) -> Voicemail:
    return voicemail_record(
        call_sid="CA" + f"{n:02d}" * 16,
        recording_sid="RE" + f"{n:02d}" * 16,
        reason="closed",
        from_number=RAW,
        department_id=org.general.pk,
        status="completed",
        duration=10,
        **extra,
    )


def test_the_voicemail_list_masks_callers_and_show_is_audited(client, org):
    customer = Customer.objects.create(phone=RAW, name="김고객")
    voicemail = _voicemail(org, 1)
    assert voicemail.customer == customer
    client.force_login(org.agent1)
    page = client.get(reverse("telephony:voicemails"))
    assert page.status_code == 200
    assert_masked(page.content.decode())
    url = reverse("telephony:voicemail-reveal", args=[voicemail.pk])
    assert url in page.content.decode()  # the Show that the 콜백 uses
    assert not IdentifierView.objects.exists()
    shown = client.post(url)
    assert shown.status_code == 200 and FULL in shown.content.decode()
    view = IdentifierView.objects.get()
    assert (view.viewer, view.customer, view.field) == (org.agent1, customer, "phone")


def test_showing_an_unknown_callers_voicemail_number_files_them_and_is_audited(client, org):
    voicemail = _voicemail(org, 2)
    assert voicemail.customer is None
    client.force_login(org.lead1)
    shown = client.post(reverse("telephony:voicemail-reveal", args=[voicemail.pk]))
    assert shown.status_code == 200 and FULL in shown.content.decode()
    voicemail.refresh_from_db()
    assert voicemail.customer.phone == RAW
    view = IdentifierView.objects.get()
    assert (view.viewer, view.customer) == (org.lead1, voicemail.customer)


def test_nobody_shows_another_departments_voicemail_number(client, org):
    voicemail = _voicemail(org, 3)
    client.force_login(org.agent4)  # 가입, not 일반
    response = client.post(reverse("telephony:voicemail-reveal", args=[voicemail.pk]))
    assert response.status_code == 403
    assert FULL not in response.content.decode()
    assert not IdentifierView.objects.exists()
    assert client.get(reverse("telephony:voicemail-reveal", args=[voicemail.pk])).status_code == 405


def test_the_admin_lists_mask_callers_and_customers(client, org):
    from agents.models import Person, Role
    from telephony.models import SmsMessage

    customer = Customer.objects.create(phone=RAW, email="kim.gogaek@example.com")
    call = CallFactory(
        enqueued_at=timezone.now() - timedelta(hours=1),
        wait=5,
        talk=60,
        acw=0,
        customer=customer,
        department=org.general,
    )
    voicemail = _voicemail(org, 4)
    SmsMessage.objects.create(
        sid="SM" + "0" * 32,
        direction="inbound",
        from_number=RAW,
        to_number=GENERAL_NUMBER,
        body="안녕하세요",
        department=org.general,
        at=timezone.now(),
    )
    admin = Person.objects.create_superuser(
        "root", password="pw", display_name="root", role=Role.ADMIN, center=org.center
    )
    client.force_login(admin)
    for model in ["telephony/call", "telephony/voicemail", "telephony/smsmessage"]:
        response = client.get(f"/admin/{model}/")
        assert response.status_code == 200, model
        assert_masked(response.content.decode())
    customers = client.get("/admin/tickets/customer/").content.decode()
    assert_masked(customers)
    assert "kim.gogaek@" not in customers and "k*********@example.com" in customers
    for obj in (call, voicemail, customer):
        assert FULL not in str(obj) and RAW not in str(obj)
