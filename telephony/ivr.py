"""The voice menu (IVR): opening hours and holidays, walking the menu tree, and the TwiML
the caller hears.

Where the caller is in the menu lives in the Gather action's query string
(`?menu=<id>&lang=<ko|en>&try=<n>`, plus `offer=<queue id>` while they choose between
waiting and a callback). Twilio signs the full URL including the query, so the state cannot
be tampered with, and no server-side session is needed: a retried webhook gets the same
answer. No Call row exists until the caller reaches a queue (or books a callback).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Gather, VoiceResponse

from agents.models import Center
from telephony import services, twiml
from telephony.models import (
    FullAction,
    IvrAction,
    IvrMenu,
    IvrOption,
    OpeningHours,
    Queue,
)
from telephony.security import public_url
from telephony.services.surveys import optin_prompt
from tickets.models import Holiday

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
SAY_LANGUAGE = {"ko": "ko-KR", "en": "en-US"}
LANGUAGE_KEY = "9"  # switches ko ↔ en on menus with offer_language_choice
WAIT_KEY, CALLBACK_KEY = "1", "2"  # the wait-or-callback question


@dataclass(frozen=True)
class CallerLeg:
    """The caller's leg as Twilio describes it on every webhook."""

    sid: str
    from_number: str
    to_number: str


# --- Finding menus -----------------------------------------------------------------------


def _menus():
    options = IvrOption.objects.select_related("queue", "submenu").order_by("digit")
    return IvrMenu.objects.select_related("center", "default_queue").prefetch_related(
        Prefetch("options", queryset=options), "opening_hours"
    )


def root_menu_for_number(number: str) -> IvrMenu | None:
    """The root menu answering this dialled number (대표번호), if any."""
    from telephony.selectors import number_route
    from tickets.services.customers import phone_normalize

    called = phone_normalize(number) or number
    menu_id, _queue = number_route(called)  # most numbers have no menu: cached, no query
    return menu_get(menu_id) if menu_id is not None else None


def menu_get(menu_id: int) -> IvrMenu | None:
    return _menus().filter(pk=menu_id).first()


# --- Opening hours -----------------------------------------------------------------------


def center_zone(center: Center) -> ZoneInfo:
    try:
        return ZoneInfo(center.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def is_open(menu: IvrMenu, at: datetime | None = None) -> bool:
    """Whether the menu's number is open at `at`, judged in the center's time zone.

    Hours are [opens, closes); `closes <= opens` spans midnight (22:00–02:00, and 00:00–00:00
    is the whole day). A holiday closes the shifts that *start* on it. A menu with no hours
    is always open except on holidays.
    """
    local = timezone.localtime(at or timezone.now(), center_zone(menu.center))
    today, now_t = local.date(), local.time()
    yesterday = today - timedelta(days=1)
    holidays = set(
        Holiday.objects.filter(center_id=menu.center_id, date__in=[today, yesterday]).values_list(
            "date", flat=True
        )
    )
    hours: list[OpeningHours] = list(menu.opening_hours.all())
    if not hours:
        return today not in holidays
    for h in hours:
        overnight = h.closes <= h.opens
        if h.weekday == today.weekday() and today not in holidays:
            if h.opens <= now_t and (overnight or now_t < h.closes):
                return True
        if overnight and h.weekday == yesterday.weekday() and yesterday not in holidays:
            if now_t < h.closes:
                return True
    return False


# --- URLs (the state of the walk) ----------------------------------------------------------


def gather_url(menu_id: int, lang: str, tries: int, offer_queue_id: int | None = None) -> str:
    params: dict[str, object] = {"menu": menu_id, "lang": lang, "try": tries}
    if offer_queue_id:
        params["offer"] = offer_queue_id
    return public_url(reverse("telephony:voice-ivr") + "?" + urlencode(params))


# --- Small TwiML pieces --------------------------------------------------------------------


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _text(menu: IvrMenu, name: str, lang: str) -> str:
    """A prompt of the menu in `lang`, falling back to the other language when left empty."""
    other = "en" if lang == "ko" else "ko"
    return (getattr(menu, f"{name}_{lang}") or getattr(menu, f"{name}_{other}") or "").strip()


def _say(node, text: str, lang: str) -> None:
    if text:
        node.say(text, language=SAY_LANGUAGE[lang])


def _goodbye(response: VoiceResponse, lang: str) -> VoiceResponse:
    _say(response, _("Thank you for calling. Goodbye."), lang)
    response.hangup()
    return response


def _keywords(option: IvrOption) -> list[str]:
    return [k.strip() for k in option.speech_keywords.split(",") if k.strip()]


def _append_prompt(response: VoiceResponse, menu: IvrMenu, lang: str, tries: int) -> None:
    """The menu prompt inside a Gather (a key press interrupts it). With
    actionOnEmptyResult a timeout posts to the action without Digits; the Redirect after
    it is the same request for providers that fall through instead."""
    options = list(menu.options.all())
    keywords = [k for option in options for k in _keywords(option)]
    action = gather_url(menu.pk, lang, tries)
    gather = Gather(
        input="dtmf speech" if keywords else "dtmf",
        num_digits=1,
        timeout=menu.timeout_seconds,
        action=action,
        method="POST",
        action_on_empty_result=True,
        language=SAY_LANGUAGE[lang],
        hints=", ".join(keywords) if keywords else None,
    )
    _say(gather, _text(menu, "prompt", lang), lang)
    if menu.offer_language_choice:
        other = "en" if lang == "ko" else "ko"
        with translation.override(other):
            offer = _("For English, press 9.") if other == "en" else _("For Korean, press 9.")
        _say(gather, offer, other)
    response.append(gather)
    response.redirect(action, method="POST")


def _greet(response: VoiceResponse, menu: IvrMenu, lang: str) -> None:
    """Greeting, then the recording notice, outside any Gather so it cannot be skipped."""
    _say(response, _text(menu, "greeting", lang), lang)
    _say(response, _("This call is recorded to improve our service."), lang)


# --- Public builders -----------------------------------------------------------------------


def incoming_response(
    menu: IvrMenu, *, caller: dict[str, str] | None = None, at: datetime | None = None
) -> VoiceResponse:
    """First answer to a call on a number with a root menu: greeting with the recording
    notice, then the closed message (and voicemail or a callback) or the menu. `caller` is
    the incoming webhook's CallSid, From and To (needed to book a callback)."""
    lang = DEFAULT_LANGUAGE
    response = VoiceResponse()
    with translation.override(lang):
        _greet(response, menu, lang)
        if not is_open(menu, at):
            closed = _text(menu, "closed_message", lang)
            if menu.closed_action == "callback" and menu.default_queue_id and caller:
                # The callback waits in the queue overnight and is offered, in turn, to
                # the first agents of the morning.
                services.call_receive_as_callback(
                    sid=caller["CallSid"],
                    from_number=caller["From"],
                    to_number=caller["To"],
                    queue_id=menu.default_queue_id,
                    language=lang,
                    reason="closed",
                    at=at,
                )
                _say(response, closed or _("We are closed at the moment."), lang)
                _say(
                    response,
                    _("We will call you back at this number as soon as we open."),
                    lang,
                )
                _goodbye(response, lang)
                return response
            if menu.closed_action in {"voicemail", "callback"}:
                _say(response, closed or _("We are closed at the moment."), lang)
                return _voicemail(response, menu, lang, reason="closed", queue=menu.default_queue)
            _say(
                response,
                closed or _("We are closed at the moment. Please call again during opening hours."),
                lang,
            )
            response.hangup()
            return response
        _append_prompt(response, menu, lang, tries=0)
    return response


def _voicemail(
    response: VoiceResponse, menu: IvrMenu, lang: str, *, reason: str, queue: Queue | None
) -> VoiceResponse:
    """Whatever was said so far, then the voicemail prompt and <Record> (twiml's, so the
    webhook's query contract stays in one place); the department is the queue's, else the
    menu's default queue's."""
    queue = queue or menu.default_queue
    record = twiml.voicemail_response(
        reason=reason, language=lang, department_id=queue.department_id if queue else None
    )
    for verb in record.verbs:
        response.append(verb)
    return response


def voicemail_thanks_response(lang: str) -> VoiceResponse:
    lang = _lang(lang)
    response = VoiceResponse()
    with translation.override(lang):
        _say(response, _("Thank you. We have your message and will get back to you."), lang)
        _goodbye(response, lang)
    return response


def answer_gather(
    *,
    menu: IvrMenu,
    lang: str,
    tries: int,
    digits: str,
    speech: str,
    caller: CallerLeg,
    offer_queue: Queue | None = None,
) -> VoiceResponse:
    """The caller pressed a key, said something, or nothing (timeout) at `menu`.

    Precondition: `menu` comes from `menu_get` (options prefetched). Idempotent per
    request: the services it calls are idempotent per CallSid.
    """
    lang = _lang(lang)
    with translation.override(lang):
        if offer_queue is not None:
            return _answer_wait_or_callback(menu, lang, tries, digits, offer_queue, caller)
        if menu.offer_language_choice and digits == LANGUAGE_KEY:
            other = "en" if lang == "ko" else "ko"
            response = VoiceResponse()
            with translation.override(other):
                _append_prompt(response, menu, other, tries=0)
            return response
        option = _match(menu, digits, speech)
        if option is None:
            return _retry(menu, lang, tries, caller, invalid=bool(digits or speech))
        return _take(option, menu, lang, tries, caller)


def _match(menu: IvrMenu, digits: str, speech: str) -> IvrOption | None:
    options = list(menu.options.all())
    if digits:
        return next((o for o in options if o.digit == digits[:1]), None)
    heard = speech.strip().lower()
    if heard:
        for option in options:
            if any(k.lower() in heard for k in _keywords(option)):
                return option
    return None


def _retry(
    menu: IvrMenu, lang: str, tries: int, caller: CallerLeg, *, invalid: bool
) -> VoiceResponse:
    """No input or a wrong key: repeat the menu up to max_retries times, then the
    default queue, or a polite goodbye when the menu has none."""
    failures = tries + 1
    if failures > menu.max_retries:
        if menu.default_queue is not None:
            return _to_queue(menu.default_queue, menu, lang, caller)
        response = VoiceResponse()
        _say(response, _("We could not recognise your choice."), lang)
        return _goodbye(response, lang)
    response = VoiceResponse()
    if invalid:
        _say(response, _("Sorry, that is not a valid choice."), lang)
    _append_prompt(response, menu, lang, tries=failures)
    return response


def _take(
    option: IvrOption, menu: IvrMenu, lang: str, tries: int, caller: CallerLeg
) -> VoiceResponse:
    queue = option.queue or menu.default_queue
    if option.action == IvrAction.QUEUE and queue is not None:
        return _to_queue(queue, menu, lang, caller)
    if option.action == IvrAction.SUBMENU and option.submenu_id:
        submenu = menu_get(option.submenu_id)
        if submenu is not None:
            response = VoiceResponse()
            _append_prompt(response, submenu, lang, tries=0)
            return response
    if option.action == IvrAction.CALLBACK and queue is not None:
        return _book_callback(queue, menu, lang, caller)
    if option.action == IvrAction.VOICEMAIL:
        return _voicemail(VoiceResponse(), menu, lang, reason="choice", queue=queue)
    if option.action == IvrAction.REPEAT:
        response = VoiceResponse()
        _append_prompt(response, menu, lang, tries=tries)
        return response
    # A misconfigured option (queue action without a queue…) counts as a wrong key.
    return _retry(menu, lang, tries, caller, invalid=True)


def _wait_is_long(queue: Queue) -> tuple[bool, float | None]:
    """Whether to offer a callback before queueing, and the expected wait. No agent
    serving the queue means an unknown, long wait (as the hold loop judges it)."""
    from telephony import selectors

    expected = selectors.queue_expected_wait_seconds(queue)
    return selectors.callback_worth_offering(queue, expected), expected


def _to_queue(queue: Queue, menu: IvrMenu, lang: str, caller: CallerLeg) -> VoiceResponse:
    long_wait, expected = _wait_is_long(queue)
    if not long_wait:
        return _enqueue(queue, menu, lang, caller)
    return _wait_or_callback_prompt(menu, lang, queue, expected, tries=0)


def _wait_or_callback_prompt(
    menu: IvrMenu,
    lang: str,
    queue: Queue,
    expected: float | None,
    tries: int,
    *,
    sorry: bool = False,
) -> VoiceResponse:
    response = VoiceResponse()
    if sorry:
        _say(response, _("Sorry, that is not a valid choice."), lang)
    action = gather_url(menu.pk, lang, tries, offer_queue_id=queue.pk)
    gather = Gather(
        input="dtmf",
        num_digits=1,
        timeout=menu.timeout_seconds,
        action=action,
        method="POST",
        action_on_empty_result=True,
        language=SAY_LANGUAGE[lang],
    )
    if expected is None:
        _say(gather, _("All our agents are busy at the moment."), lang)
    else:
        minutes = max(1, math.ceil(expected / 60))
        _say(
            gather,
            _("The expected wait is about %(minutes)d minutes.") % {"minutes": minutes},
            lang,
        )
    _say(
        gather,
        _(
            "To keep waiting, press 1. To have us call you back without losing your place "
            "in line, press 2."
        ),
        lang,
    )
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def _answer_wait_or_callback(
    menu: IvrMenu, lang: str, tries: int, digits: str, queue: Queue, caller: CallerLeg
) -> VoiceResponse:
    if digits == CALLBACK_KEY:
        return _book_callback(queue, menu, lang, caller)
    if digits == WAIT_KEY:
        return _enqueue(queue, menu, lang, caller)
    failures = tries + 1
    if failures > menu.max_retries:
        return _enqueue(queue, menu, lang, caller)  # waiting is the safe default
    long_wait, expected = _wait_is_long(queue)
    if not long_wait:
        return _enqueue(queue, menu, lang, caller)  # the wait has become short meanwhile
    return _wait_or_callback_prompt(menu, lang, queue, expected, tries=failures, sorry=bool(digits))


def _receive(queue: Queue, lang: str, caller: CallerLeg):
    return services.call_receive(
        sid=caller.sid,
        from_number=caller.from_number,
        to_number=caller.to_number,
        queue_id=queue.pk,
        language=lang,
    )


def _enqueue(queue: Queue, menu: IvrMenu, lang: str, caller: CallerLeg) -> VoiceResponse:
    try:
        call = _receive(queue, lang, caller)
    except services.QueueFullError:
        # Every line is taken: the queue's full_action, as for a direct call.
        if queue.full_action == FullAction.CALLBACK:
            return _book_callback(queue, menu, lang, caller, reason="full")
        response = VoiceResponse()
        _say(response, _("All our agents are busy at the moment."), lang)
        return _voicemail(response, menu, lang, reason="full", queue=queue)
    if settings.CSAT_IVR_OPT_IN:  # "press 1 for a survey after the call", then the queue
        return optin_prompt(call)
    # The greeting has told the caller about the recording already.
    return twiml.enqueue_response(call, announce_recording=False)


def _book_callback(
    queue: Queue, menu: IvrMenu, lang: str, caller: CallerLeg, *, reason: str = "callback"
) -> VoiceResponse:
    """A callback keeps the caller's place: the call joins the queue (even a full one) and
    is dialled back when an agent takes it."""
    call = services.call_receive_as_callback(
        sid=caller.sid,
        from_number=caller.from_number,
        to_number=caller.to_number,
        queue_id=queue.pk,
        language=lang,
        reason=reason,
    )
    return twiml.callback_booked_response(call)


# --- The tree, for the read-only page ------------------------------------------------------


@dataclass
class MenuNode:
    menu: IvrMenu
    options: list[tuple[IvrOption, MenuNode | None]] = field(default_factory=list)
    loops_back: bool = False


def menu_tree(menu: IvrMenu, *, _seen: frozenset[int] = frozenset()) -> MenuNode:
    """The menu and its sub-menus, depth first; a sub-menu that leads back up is marked
    instead of followed."""
    if menu.pk in _seen:
        return MenuNode(menu=menu, loops_back=True)
    node = MenuNode(menu=menu)
    seen = _seen | {menu.pk}
    for option in menu.options.all():
        child = None
        if option.action == IvrAction.SUBMENU and option.submenu_id:
            submenu = menu_get(option.submenu_id)
            child = menu_tree(submenu, _seen=seen) if submenu else None
        node.options.append((option, child))
    return node


def root_menus_for(center_id: int | None):
    qs = _menus().exclude(phone_number=None).exclude(phone_number="")
    return qs.filter(center_id=center_id) if center_id else qs
