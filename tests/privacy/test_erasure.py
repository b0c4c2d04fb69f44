"""Erasure of one customer: no trace left in any text column, figures unchanged, audited,
idempotent, at Twilio too; from the admin (with confirmation) and the command line."""

from __future__ import annotations

import json
import logging

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import CharField, JSONField, Q, TextField
from django.db.models.functions import Cast
from twilio.http import HttpClient
from twilio.http.response import Response

from privacy.models import CustomerErasure
from privacy.services.erasure import customer_erase
from telephony.gateway import TwilioGateway
from telephony.models import Call, SmsMessage, Survey, Voicemail
from tests.privacy.conftest import HONG, KIM, figures
from tickets.models import Customer, Ticket, TicketNote

HONG_VALUES = [
    HONG.name,
    HONG.phone,
    HONG.phone_national,
    HONG.phone_digits,
    HONG.second,
    "010-5550-9876",
    "01055509876",
    HONG.email,
]


def _variants(value: str) -> list[str]:
    # SQLite keeps JSON as text with non-ASCII characters escaped.
    return [value, json.dumps(value)[1:-1]]


def traces(values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text or JSON column of every table holding a value."""
    hits = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, CharField | TextField):
                qs, column = model._default_manager.all(), field.attname
            elif isinstance(field, JSONField):
                qs = model._default_manager.annotate(as_text=Cast(field.attname, TextField()))
                column = "as_text"
            else:
                continue
            for value in values:
                q = Q()
                for variant in _variants(value):
                    q |= Q(**{f"{column}__icontains": variant})
                if qs.filter(q).exists():
                    hits.append((model._meta.db_table, field.attname, value))
    return hits


def test_after_erasure_no_text_column_holds_the_customers_name_number_or_email(world):
    assert len(traces(HONG_VALUES)) >= 20  # the search finds what is there
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    assert traces(HONG_VALUES) == []
    # The other customer is untouched.
    assert {t[2] for t in traces([KIM.name, KIM.phone, KIM.email])} == {
        KIM.name,
        KIM.phone,
        KIM.email,
    }
    kim = Customer.objects.get(pk=world.kim.pk)
    assert (kim.name, kim.phone, kim.email) == (KIM.name, KIM.phone, KIM.email)
    assert Call.objects.get(pk=world.calls.kim_old.pk).from_number == KIM.phone
    assert TicketNote.objects.get(call=world.calls.kim_old).body == f"{KIM.name} 문의"


def test_erasure_keeps_the_rows_so_rollups_and_qa_averages_are_unchanged(world):
    rows = (Call, Ticket, TicketNote, SmsMessage, Voicemail, Survey, Customer)
    counts = {m: m.objects.count() for m in rows}
    before = figures(world)
    assert before["qa"] and any(row[3][STAT_FCR] for row in before["interval"])
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    assert figures(world) == before
    assert {m: m.objects.count() for m in rows} == counts
    hong = Customer.objects.get(pk=world.hong.pk)
    assert (hong.name, hong.phone, hong.email) == ("", "", "")
    assert hong.label == hong.number  # shown as C-000123 from now on
    call = Call.objects.get(pk=world.calls.hong_old.pk)
    assert call.customer_id == hong.pk and call.from_number == ""
    assert call.recording_url == "" and call.recording_status == "deleted"
    assert call.talk_seconds == world.calls.hong_old.talk_seconds
    survey = Survey.objects.get(call=call)
    assert survey.score == 4 and survey.phone == ""


STAT_FCR = __import__("kpi.models", fromlist=["STAT_FIELDS"]).STAT_FIELDS.index("fcr_eligible")


def test_the_erasure_is_audited_without_personal_data(world):
    erasure = customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    row = CustomerErasure.objects.get()
    assert row.pk == erasure.pk
    assert (row.customer_id, row.requested_by) == (world.hong.pk, world.org.director)
    assert row.removed["customers"] == 1
    assert row.removed["recordings"] == 3
    assert row.removed["voicemail_recordings"] == 1
    assert row.removed["sms"] == 3
    assert row.removed["failed_recordings"] == 0
    text = json.dumps(row.removed, ensure_ascii=False) + str(row)
    assert not any(v in text for v in HONG_VALUES)


def test_a_second_erasure_changes_nothing_and_is_audited_too(world):
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    after_first = {
        m: list(m.objects.order_by("pk").values())
        for m in (Customer, Call, Ticket, TicketNote, SmsMessage, Voicemail, Survey)
    }
    second = customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    assert set(second.removed.values()) == {0}
    assert CustomerErasure.objects.count() == 2
    for model, rows in after_first.items():
        assert list(model.objects.order_by("pk").values()) == rows, model


def test_a_customer_merged_into_the_erased_one_is_erased_with_it(world):
    duplicate = Customer.objects.create(
        phone="+821044443333", name="홍길동2", merged_into=world.hong
    )
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    duplicate.refresh_from_db()
    assert (duplicate.name, duplicate.phone) == ("", "")


class TwilioApi(HttpClient):
    """Twilio's REST API: records each request; answers 500 for the SIDs in `refuse`."""

    def __init__(self, refuse=()):
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.requests = []
        self.refuse = set(refuse)

    def request(self, method, url, params=None, data=None, headers=None, auth=None, **kw):
        self.requests.append((method, url))
        if any(sid in url for sid in self.refuse):
            return Response(500, '{"code": 20500, "message": "Internal Server Error"}')
        return Response(204, "")


def _sids(*calls):
    return {c.recording_sid for c in calls}


def test_in_twilio_mode_the_recordings_are_deleted_at_twilio(world, settings):
    settings.TELEPHONY_MODE = "twilio"
    api = TwilioApi()
    customer_erase(customer_id=world.hong.pk, actor=world.org.director, gateway=TwilioGateway(api))
    deleted = {url.rsplit("/", 1)[1].removesuffix(".json") for method, url in api.requests}
    assert {m for m, _ in api.requests} == {"DELETE"}
    c = world.calls
    assert deleted == _sids(c.hong_old, c.hong_repeat, c.hong_recent) | {"RE" + "v" * 32}
    assert Call.objects.get(pk=c.kim_old.pk).recording_status == "completed"


def test_a_recording_twilio_refuses_to_delete_is_kept_and_retried(world, settings):
    refused = world.calls.hong_repeat.recording_sid
    first = customer_erase(
        customer_id=world.hong.pk,
        actor=world.org.director,
        gateway=TwilioGateway(TwilioApi(refuse=[refused])),
    )
    assert first.removed["failed_recordings"] == 1
    assert Call.objects.get(pk=world.calls.hong_repeat.pk).recording_status == "completed"
    api = TwilioApi()
    again = customer_erase(
        customer_id=world.hong.pk, actor=world.org.director, gateway=TwilioGateway(api)
    )
    assert [url for _, url in api.requests] == [
        f"https://api.twilio.com/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
        f"/Recordings/{refused}.json"
    ]
    assert again.removed["recordings"] == 1
    assert Call.objects.get(pk=world.calls.hong_repeat.pk).recording_status == "deleted"


def test_the_command_erases_after_confirmation_and_refuses_bad_input(world, monkeypatch):
    with pytest.raises(CommandError):
        call_command("customer_erase", "C-²", "--by", "director", "--yes")
    with pytest.raises(CommandError):
        call_command("customer_erase", "999999", "--by", "director", "--yes")
    with pytest.raises(CommandError):
        call_command("customer_erase", str(world.hong.pk), "--by", "nobody", "--yes")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError):
        call_command("customer_erase", str(world.hong.pk), "--by", "director")
    assert not CustomerErasure.objects.exists()
    call_command("customer_erase", world.hong.number, "--by", "director", "--yes")
    assert CustomerErasure.objects.get().customer_id == world.hong.pk
    assert Customer.objects.get(pk=world.hong.pk).name == ""


def test_the_admin_action_asks_for_confirmation_then_erases(world, client):
    admin = world.org.director
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = "/admin/tickets/customer/"
    data = {"action": "erase_customers", "_selected_action": [world.hong.pk]}
    page = client.post(url, data)
    assert page.status_code == 200
    assert world.hong.number in page.content.decode()
    assert not CustomerErasure.objects.exists()
    done = client.post(url, {**data, "confirm": "yes"})
    assert done.status_code == 302
    erasure = CustomerErasure.objects.get()
    assert (erasure.customer_id, erasure.requested_by) == (world.hong.pk, admin)
    assert Customer.objects.get(pk=world.hong.pk).email == ""


def test_staff_without_the_erase_permission_cannot_erase(world, client):
    staff = world.org.manager
    staff.is_staff = True
    staff.save()
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "change_customer"])
    )
    client.force_login(staff)
    data = {"action": "erase_customers", "_selected_action": [world.hong.pk], "confirm": "yes"}
    client.post("/admin/tickets/customer/", data)
    assert not CustomerErasure.objects.exists()
    assert Customer.objects.get(pk=world.hong.pk).name == HONG.name


def test_a_mention_in_a_full_length_qa_note_is_replaced_within_the_column(world):
    from qa.models import Answer

    item = world.evaluation.scorecard.sections.first().items.first()
    note = ("가" * (500 - len(HONG.name) * 3)) + HONG.name * 3
    Answer.objects.create(evaluation=world.evaluation, item=item, value=1, note=note)
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    kept = Answer.objects.get(evaluation=world.evaluation).note
    assert HONG.name not in kept and len(kept) == 500
