"""The voice menu: opening hours and holidays in the center's time zone, language choice,
repeats and timeouts, queue / callback / voicemail choices, and a signed, untamperable state."""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from telephony import ivr_menus
from telephony.models import (
    Call,
    CallPhase,
    IvrAction,
    IvrMenu,
    IvrOption,
    OpeningHours,
)
from tests.conftest import ClientTransport, make_available, post_signed, signature
from tickets.models import Holiday

IVR_NUMBER = "+8215880000"
INCOMING = "/telephony/voice/incoming/"
IVR = "/telephony/voice/ivr/"
SID = "CA" + "b2" * 16
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def menu(org):
    root = IvrMenu.objects.create(
        name="대표번호",
        center=org.center,
        phone_number=IVR_NUMBER,
        greeting_ko="상담 고객센터입니다.",
        greeting_en="Welcome to Sangdam.",
        prompt_ko="가입은 1번, 일반 문의는 3번을 눌러 주세요.",
        prompt_en="For sign-up press 1, for anything else press 3.",
        default_queue=org.q_general,
        timeout_seconds=5,
        max_retries=2,
    )
    sub = IvrMenu.objects.create(
        name="요금",
        center=org.center,
        prompt_ko="요금 문의는 1번.",
        prompt_en="Billing: press 1.",
        offer_language_choice=False,
    )
    IvrOption.objects.create(
        menu=sub,
        digit="1",
        label_ko="요금",
        label_en="Billing",
        action=IvrAction.QUEUE,
        queue=org.q_general,
    )
    for digit, label, action, extra in [
        ("1", "가입", IvrAction.QUEUE, {"queue": org.q_signup, "speech_keywords": "가입, sign up"}),
        ("3", "일반", IvrAction.QUEUE, {"queue": org.q_general}),
        ("0", "전화 예약", IvrAction.CALLBACK, {"queue": org.q_general}),
        ("5", "요금", IvrAction.SUBMENU, {"submenu": sub}),
        ("7", "메시지", IvrAction.VOICEMAIL, {"queue": org.q_signup}),
        ("8", "다시 듣기", IvrAction.REPEAT, {}),
    ]:
        IvrOption.objects.create(
            menu=root, digit=digit, label_ko=label, label_en=label, action=action, **extra
        )
    return root


def incoming(sid=SID, frm="010-2345-6789"):
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": frm,
        "To": IVR_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def gather_params(digits=None, speech=None, sid=SID):
    params = {
        "CallSid": sid,
        "From": "+821023456789",
        "To": IVR_NUMBER,
        "CallStatus": "in-progress",
    }
    if digits is not None:
        params["Digits"] = digits
    if speech is not None:
        params["SpeechResult"] = speech
    return params


def xml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    return ElementTree.fromstring(response.content)


def gather_action(root: ElementTree.Element) -> str:
    """The Gather action as a path with query, as the test client posts it."""
    gather = root.find("Gather")
    assert gather is not None, ElementTree.tostring(root)
    url = urlsplit(gather.get("action"))
    return f"{url.path}?{url.query}"


def press(client, path: str, digits=None, speech=None, sid=SID):
    return post_signed(client, path, gather_params(digits, speech, sid))


def short_wait(org, *queues):
    """An agent is serving and a callback is offered only past an hour."""
    make_available(org.agent1, org.agent4)
    for queue in queues or (org.q_general, org.q_signup):
        queue.callback_offer_wait_seconds = 3600
        queue.save()


# --- Opening hours ---------------------------------------------------------------------


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def hours(menu, weekday, opens, closes):
    OpeningHours.objects.create(menu=menu, weekday=weekday, opens=opens, closes=closes)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (seoul(2026, 3, 4, 8, 59, 59), False),  # Wednesday, a second before opening
        (seoul(2026, 3, 4, 9, 0), True),  # opening time is open
        (seoul(2026, 3, 4, 17, 59, 59), True),
        (seoul(2026, 3, 4, 18, 0), False),  # closing time is closed: [opens, closes)
        (seoul(2026, 3, 7, 12, 0), False),  # Saturday: no hours
    ],
)
def test_it_is_open_within_the_days_hours_only(menu, at, expected):
    for weekday in range(5):
        hours(menu, weekday, time(9), time(18))
    assert ivr_menus.is_open(ivr_menus.menu_get(menu.pk), at) is expected


def test_opening_hours_are_judged_in_the_centers_time_zone(menu, org):
    hours(menu, 2, time(9), time(18))  # Wednesday
    # 00:30 UTC on Wednesday is 09:30 in Seoul but 20:30 on Tuesday in New York.
    at = datetime(2026, 3, 4, 0, 30, tzinfo=ZoneInfo("UTC"))
    assert ivr_menus.is_open(ivr_menus.menu_get(menu.pk), at)
    org.center.timezone = "America/New_York"
    org.center.save()
    assert not ivr_menus.is_open(ivr_menus.menu_get(menu.pk), at)


def test_a_holiday_closes_the_whole_day(menu, org):
    for weekday in range(7):
        hours(menu, weekday, time(9), time(18))
    Holiday.objects.create(center=org.center, date=date(2026, 12, 25), name="성탄절")
    assert not ivr_menus.is_open(ivr_menus.menu_get(menu.pk), seoul(2026, 12, 25, 12, 0))
    assert ivr_menus.is_open(ivr_menus.menu_get(menu.pk), seoul(2026, 12, 24, 12, 0))
    # The holiday is a date in the center's zone: 2026-12-25 03:00 UTC is noon in Seoul.
    assert not ivr_menus.is_open(
        ivr_menus.menu_get(menu.pk), datetime(2026, 12, 25, 3, 0, tzinfo=ZoneInfo("UTC"))
    )


def test_a_holiday_of_another_center_changes_nothing(menu, org):
    from agents.models import Center

    other = Center.objects.create(name="다른 센터")
    Holiday.objects.create(center=other, date=date(2026, 12, 25), name="성탄절")
    assert ivr_menus.is_open(
        ivr_menus.menu_get(menu.pk), seoul(2026, 12, 25, 12, 0)
    )  # no hours: open


def test_overnight_hours_span_midnight_and_a_holiday_closes_the_shift_starting_on_it(menu, org):
    hours(menu, 4, time(22), time(2))  # Friday 22:00 – Saturday 02:00
    m = ivr_menus.menu_get(menu.pk)
    assert ivr_menus.is_open(m, seoul(2026, 3, 6, 23, 0))
    assert ivr_menus.is_open(m, seoul(2026, 3, 7, 1, 59))
    assert not ivr_menus.is_open(m, seoul(2026, 3, 7, 2, 0))
    assert not ivr_menus.is_open(m, seoul(2026, 3, 6, 21, 59))
    Holiday.objects.create(center=org.center, date=date(2026, 3, 7), name="토요일 휴일")
    assert ivr_menus.is_open(ivr_menus.menu_get(menu.pk), seoul(2026, 3, 7, 1, 0))  # Friday's shift
    Holiday.objects.create(center=org.center, date=date(2026, 3, 6), name="금요일 휴일")
    assert not ivr_menus.is_open(ivr_menus.menu_get(menu.pk), seoul(2026, 3, 7, 1, 0))


def test_midnight_to_midnight_is_the_whole_day(menu):
    hours(menu, 2, time(0), time(0))
    m = ivr_menus.menu_get(menu.pk)
    assert ivr_menus.is_open(m, seoul(2026, 3, 4, 0, 0))
    assert ivr_menus.is_open(m, seoul(2026, 3, 4, 23, 59))
    assert not ivr_menus.is_open(m, seoul(2026, 3, 5, 0, 0))


# --- Incoming --------------------------------------------------------------------------


def test_an_ivr_number_greets_with_the_recording_notice_and_asks_for_a_key(client, menu):
    root = xml(post_signed(client, INCOMING, incoming()))
    says = [s.text for s in root.iter("Say")]
    assert says[0] == "상담 고객센터입니다."
    assert "녹음" in says[1]  # every call is recorded, and the caller hears it first
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "5"
    assert gather.get("language") == "ko-KR"
    assert gather.get("input") == "dtmf speech"  # option 1 has speech keywords
    query = parse_qs(urlsplit(gather.get("action")).query)
    assert query == {"menu": [str(menu.pk)], "lang": ["ko"], "try": ["0"]}
    assert any("English" in (s.text or "") for s in gather.iter("Say"))
    assert not Call.objects.exists()  # no call row until the caller reaches a queue


def test_a_number_without_a_menu_goes_straight_to_the_department_queue(client, org, menu):
    params = {**incoming(), "To": org.general.phone_number}
    body = post_signed(client, INCOMING, params).content.decode()
    assert "<Enqueue" in body and "<Gather" not in body
    assert Call.objects.get(sid=SID).queue == org.q_general


def test_closed_on_a_holiday_takes_a_voicemail(client, org, menu):
    Holiday.objects.create(center=org.center, date=timezone.localdate(), name="휴일")
    root = xml(post_signed(client, INCOMING, incoming()))
    assert root.find("Gather") is None
    record = root.find("Record")
    assert record.get("maxLength") == "120" and record.get("playBeep") == "true"
    query = parse_qs(urlsplit(record.get("action")).query)
    assert query["reason"] == ["closed"]
    assert query["department"] == [str(org.general.pk)]  # the menu's default queue
    assert record.get("recordingStatusCallback") == record.get("action")
    assert not Call.objects.exists()


def test_closed_with_hang_up_says_so_and_hangs_up(client, org, menu):
    menu.closed_action = "hangup"
    menu.closed_message_ko = "지금은 상담 시간이 아닙니다."
    menu.save()
    Holiday.objects.create(center=org.center, date=timezone.localdate(), name="휴일")
    root = xml(post_signed(client, INCOMING, incoming()))
    assert [s.text for s in root.iter("Say")][-1] == "지금은 상담 시간이 아닙니다."
    assert root.find("Hangup") is not None and root.find("Record") is None


def test_closed_with_callback_books_one_that_waits_for_the_morning(client, org, menu):
    menu.closed_action = "callback"
    menu.save()
    Holiday.objects.create(center=org.center, date=timezone.localdate(), name="휴일")
    root = xml(post_signed(client, INCOMING, incoming()))
    post_signed(client, INCOMING, incoming())  # Twilio's retry books nothing more
    assert root.find("Hangup") is not None and root.find("Record") is None
    call = Call.objects.get(sid=SID)
    assert call.is_callback and call.queue_exit == "closed" and call.queue == org.q_general
    assert call.phase == CallPhase.QUEUED
    assert call.events.filter(kind="callback_requested").count() == 1


# --- Walking the menu --------------------------------------------------------------------


def first_gather(client) -> str:
    return gather_action(xml(post_signed(client, INCOMING, incoming())))


def test_a_key_puts_the_caller_in_that_queue_with_the_language(client, org, menu):
    short_wait(org)
    root = xml(press(client, first_gather(client), "1"))
    assert root.find("Enqueue") is not None
    call = Call.objects.get(sid=SID)
    assert (call.queue, call.language, call.phase) == (org.q_signup, "ko", CallPhase.QUEUED)
    # The greeting already told the caller about the recording: not twice.
    assert not any("녹음" in (s.text or "") for s in root.iter("Say"))


def test_nine_switches_to_english_and_the_queue_gets_the_language(client, org, menu):
    short_wait(org)
    english = xml(press(client, first_gather(client), "9"))
    gather = english.find("Gather")
    assert gather.get("language") == "en-US"
    assert [s.text for s in gather.iter("Say")][0] == menu.prompt_en
    assert parse_qs(urlsplit(gather.get("action")).query)["lang"] == ["en"]
    xml(press(client, gather_action(english), "3"))
    call = Call.objects.get(sid=SID)
    assert (call.queue, call.language) == (org.q_general, "en")


def test_speech_keywords_choose_an_option(client, org, menu):
    short_wait(org)
    xml(press(client, first_gather(client), speech="가입하고 싶어요"))
    assert Call.objects.get(sid=SID).queue == org.q_signup


def test_a_submenu_is_walked_and_repeat_replays_the_menu(client, org, menu):
    short_wait(org)
    path = first_gather(client)
    again = xml(press(client, path, "8"))
    assert gather_action(again) == path  # same menu, same try
    sub = xml(press(client, path, "5"))
    sub_path = gather_action(sub)
    assert parse_qs(urlsplit(sub_path).query)["menu"] == [
        str(menu.options.get(digit="5").submenu_id)
    ]
    assert not any("English" in (s.text or "") for s in sub.iter("Say"))  # no choice offered
    xml(press(client, sub_path, "1"))
    assert Call.objects.get(sid=SID).queue == org.q_general


def test_timeouts_repeat_the_menu_then_go_to_the_default_queue(client, org, menu):
    short_wait(org)
    path = first_gather(client)
    tries = []
    for _ in range(menu.max_retries):
        root = xml(press(client, path))  # no Digits: the Gather timed out
        path = gather_action(root)
        tries.append(parse_qs(urlsplit(path).query)["try"][0])
        assert not Call.objects.exists()
    assert tries == ["1", "2"]
    root = xml(press(client, path))
    assert root.find("Enqueue") is not None
    assert Call.objects.get(sid=SID).queue == org.q_general


def test_wrong_keys_apologise_and_without_a_default_queue_end_politely(client, org, menu):
    menu.default_queue = None
    menu.save()
    path = first_gather(client)
    for _ in range(menu.max_retries):
        root = xml(press(client, path, "4"))
        with translation.override("ko"):
            sorry = gettext("Sorry, that is not a valid choice.")
        assert [s.text for s in root.iter("Say")][0] == sorry
        path = gather_action(root)
    root = xml(press(client, path, "4"))
    assert root.find("Hangup") is not None and root.find("Enqueue") is None
    assert not Call.objects.exists()


def test_a_long_wait_offers_a_callback_that_keeps_the_place(client, org, menu):
    # Nobody is serving the queue: the wait is unknown and long.
    offer = xml(press(client, first_gather(client), "3"))
    assert offer.find("Enqueue") is None
    offer_path = gather_action(offer)
    assert parse_qs(urlsplit(offer_path).query)["offer"] == [str(org.q_general.pk)]
    assert not Call.objects.exists()
    booked = xml(press(client, offer_path, "2"))
    assert booked.find("Hangup") is not None
    call = Call.objects.get(sid=SID)
    assert call.phase == CallPhase.QUEUED and call.callback_requested_at is not None
    assert call.callback_number == "+821023456789"
    # Twilio retries the webhook: still one call, one booking.
    xml(press(client, offer_path, "2"))
    assert Call.objects.filter(sid=SID).count() == 1


def test_a_caller_offered_a_callback_may_keep_waiting(client, org, menu):
    offer_path = gather_action(xml(press(client, first_gather(client), "3")))
    root = xml(press(client, offer_path, "1"))
    assert root.find("Enqueue") is not None
    call = Call.objects.get(sid=SID)
    assert call.callback_requested_at is None and call.queue == org.q_general


def test_a_long_wait_timeout_defaults_to_waiting(client, org, menu):
    path = gather_action(xml(press(client, first_gather(client), "3")))
    for _ in range(menu.max_retries):
        path = gather_action(xml(press(client, path)))
    assert xml(press(client, path)).find("Enqueue") is not None


def test_the_callback_key_books_a_callback_straight_away(client, org, menu):
    root = xml(press(client, first_gather(client), "0"))
    assert root.find("Hangup") is not None
    call = Call.objects.get(sid=SID)
    assert call.queue == org.q_general and call.is_callback


def test_the_voicemail_key_records_for_the_options_department(client, org, menu):
    root = xml(press(client, first_gather(client), "7"))
    query = parse_qs(urlsplit(root.find("Record").get("action")).query)
    assert query["reason"] == ["choice"] and query["department"] == [str(org.signup.pk)]


def test_a_full_queue_books_a_callback_or_takes_a_voicemail(client, org, menu):
    short_wait(org)
    org.q_general.max_size = 1
    org.q_general.save()
    from telephony.services.receiving import call_receive

    call_receive(
        sid="CA" + "c3" * 16,
        from_number="+821011112222",
        to_number=IVR_NUMBER,
        queue_id=org.q_general.pk,
    )
    root = xml(press(client, first_gather(client), "3"))
    assert root.find("Hangup") is not None and Call.objects.get(sid=SID).is_callback
    org.q_general.full_action = "voicemail"
    org.q_general.save()
    other = "CA" + "d4" * 16
    path = gather_action(xml(post_signed(client, INCOMING, incoming(sid=other))))
    root = xml(press(client, path, "3", sid=other))
    assert root.find("Record") is not None and not Call.objects.filter(sid=other).exists()


# --- Bad input -----------------------------------------------------------------------------


def test_an_unknown_menu_is_400(client, menu):
    response = press(client, f"{IVR}?menu=999999&lang=ko&try=0", "1")
    assert response.status_code == 400
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?menu=x&lang=ko&try=0",
        "?menu=1&lang=fr&try=0",
        "?menu=1&lang=ko&try=-1",
        "?menu=1&lang=ko",
        "?menu=1&lang=ko&try=0&offer=999999",
    ],
)
def test_a_malformed_state_is_400(client, menu, query):
    query = query.replace("menu=1", f"menu={menu.pk}")
    assert press(client, IVR + query, "1").status_code == 400


@pytest.mark.parametrize(
    "params",
    [{}, {"CallSid": "nope", "From": "x", "To": "y"}, {**gather_params("1"), "Digits": "1; drop"}],
)
def test_a_malformed_gather_body_is_400(client, menu, params):
    path = f"{IVR}?menu={menu.pk}&lang=ko&try=0"
    assert post_signed(client, path, params).status_code == 400
    assert not Call.objects.exists()


def test_a_tampered_query_fails_the_signature(client, org, menu):
    """The state lives in the signed URL: a caller cannot skip the menu to another queue or
    reset the try count."""
    path = f"{IVR}?menu={menu.pk}&lang=ko&try=2"
    params = gather_params()
    signed = signature(path, params)
    tampered = f"{IVR}?menu={menu.pk}&lang=ko&try=0"
    assert client.post(tampered, params, HTTP_X_TWILIO_SIGNATURE=signed).status_code == 403
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed).status_code == 200


def test_an_unsigned_gather_is_403(client, menu):
    assert client.post(f"{IVR}?menu={menu.pk}&lang=ko&try=0", gather_params("1")).status_code == 403


# --- The simulator walks the menu like a caller --------------------------------------------


def test_the_simulated_caller_presses_the_given_keys(client, org, menu):
    from telephony.simulator import Simulator

    short_wait(org)
    sim = Simulator(ClientTransport(client))
    sid = sim.place_call(from_number="+821023456789", to_number=IVR_NUMBER, ivr_digits="93")
    call = Call.objects.get(sid=sid)
    assert (call.queue, call.language) == (org.q_general, "en")


def test_the_simulated_caller_picks_a_department_by_default(client, org, menu):
    import random

    from telephony.simulator import Simulator

    sim = Simulator(ClientTransport(client), rng=random.Random(3))
    for _ in range(4):  # a long wait is offered a callback: the caller keeps waiting
        sid = sim.place_call(from_number="+821023456789", to_number=IVR_NUMBER)
        call = Call.objects.get(sid=sid)
        assert call.queue in {org.q_general, org.q_signup} and not call.is_callback


def test_the_simulated_caller_leaves_a_voicemail_when_closed(client, org, menu):
    from telephony.models import Voicemail
    from telephony.simulator import Simulator

    Holiday.objects.create(center=org.center, date=timezone.localdate(), name="휴일")
    sid = Simulator(ClientTransport(client)).place_call(
        from_number="+821023456789", to_number=IVR_NUMBER
    )
    voicemail = Voicemail.objects.get(call_sid=sid)
    assert voicemail.reason == "closed" and voicemail.recording_status == "completed"
    assert voicemail.department == org.general and voicemail.from_number == "+821023456789"
