"""Reads about calls and queues that have rules: what each person may see of calls,
voicemails and queues (from agents.reach), a caller's position and the expected wait."""

from __future__ import annotations

import functools
import operator
from datetime import timedelta

from django.db.models import Avg, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from agents.models import AgentState, AgentStatus, Person
from agents.reach import queue_departments, reach_of
from agents.roles import roles_that
from telephony.models import Call, CallPhase, Offer, OfferStatus, Queue, Voicemail

# Used until the queue has handled enough calls today to know its own handle time.
DEFAULT_HANDLE_SECONDS = 240.0
SERVING_STATES = [
    AgentState.AVAILABLE,
    AgentState.RESERVED,
    AgentState.ON_CALL,
    AgentState.WRAP_UP,
]


def call_alternatives(person: Person) -> list[Q]:
    """calls_visible_to's rule as alternatives (a call is visible if it meets any one),
    each with an index of its own: center, departments, team, or an agent's own calls and
    those offered to them (answered or not)."""
    r = reach_of(person)
    if r.is_center_wide:
        return [r.center()]
    if r.managed_by:
        return [r.departments()]
    if r.team_id:
        return [Q(team_id=r.team_id)]
    return [Q(agent_id=r.person_id), Q(offers__agent_id=r.person_id)]


def calls_visible_to(person: Person) -> QuerySet[Call]:
    alternatives = call_alternatives(person)
    qs = Call.objects.filter(functools.reduce(operator.or_, alternatives))
    # Through its offers (a join, a row per offer) a call could come back more than once.
    return qs.distinct() if len(alternatives) > 1 else qs


def call_get_for(person: Person, call_id: int) -> Call:
    try:
        return calls_visible_to(person).get(pk=call_id)
    except Call.DoesNotExist as exc:
        raise Http404 from exc


def voicemails_visible_to(person: Person) -> QuerySet[Voicemail]:
    """Voicemails are their department's work: its agents and team leads (by their team),
    its managers, and the center-wide roles (who also see messages left for no department)."""
    r = reach_of(person)
    qs = Voicemail.objects.all()
    if r.is_center_wide:
        return qs.filter(r.center() | Q(department__isnull=True)) if r.center_id else qs
    if r.managed_by:
        return qs.filter(r.departments())
    if person.team_id:
        return qs.filter(department__teams=person.team_id)
    return qs.none()


def queues_visible_to(person: Person) -> QuerySet[Queue]:
    """Queues on the person's wallboard and skills: those of agents.reach.queue_departments."""
    rule = queue_departments(person)
    return Queue.objects.filter(rule) if rule is not None else Queue.objects.none()


def _waiting(queue: Queue):
    return Call.objects.filter(queue=queue, phase__in=[CallPhase.QUEUED, CallPhase.OFFERED])


def queue_is_full(queue: Queue) -> bool:
    """Callers on the line count against max_size; booked callbacks hold no line. Asked for
    every incoming call: reads at most max_size index entries however long the line is."""
    if not queue.max_size:
        return False
    on_line = (
        Call.objects.filter(
            queue_id=queue.pk,
            phase__in=[CallPhase.QUEUED, CallPhase.OFFERED],
            callback_requested_at__isnull=True,
        )
        .order_by()
        .values("id")[: queue.max_size]
    )
    return on_line.count() >= queue.max_size


def call_own_numbers(call: Call) -> set[str]:
    """The caller's numbers: the one they called from and every number on their customer
    record. Writing one of them down in a note is not a leak (the PII guard's `own_phone`)."""
    numbers = {call.from_number}
    if call.customer_id:
        customer = call.customer
        numbers |= {customer.phone, *customer.phones.values_list("number", flat=True)}
    return numbers - {""}


def queue_position(call: Call) -> int:
    """1 = next. Counts the calls the router takes first: higher priority, or the same
    priority and an earlier arrival (booked callbacks keep their place and count)."""
    ahead = (
        _waiting(call.queue)
        .filter(
            Q(priority__gt=call.priority)
            | Q(priority=call.priority, enqueued_at__lt=call.enqueued_at)
            | Q(priority=call.priority, enqueued_at=call.enqueued_at, pk__lt=call.pk)
        )
        .count()
    )
    return ahead + 1


def queue_handle_seconds(queue: Queue) -> float:
    """Mean talk + hold + wrap-up of the queue's calls handled in the last 24 hours."""
    since = timezone.now() - timedelta(hours=24)
    mean = (
        Call.objects.filter(queue=queue, phase=CallPhase.COMPLETED, wrapup_ended_at__gte=since)
        .annotate(handle=F("talk_seconds") + F("hold_seconds") + F("acw_seconds"))
        .aggregate(mean=Avg("handle"))["mean"]
    )
    return float(mean) if mean else DEFAULT_HANDLE_SECONDS


def queue_serving_agents(queue: Queue) -> int:
    return AgentStatus.objects.filter(
        state__in=SERVING_STATES,
        person__skills__queue=queue,
        person__is_active=True,
        escalations_only=False,  # a 실장 taking 실장 연결 only serves no queue
    ).count()


def queue_expected_wait_seconds(queue: Queue, *, position: int | None = None) -> float | None:
    """Expected wait for a caller at `position` (default: one joining now): the calls ahead
    of them, worked off by the agents serving the queue at its handle time. None when no
    agent is serving it (the wait is unknown, and long)."""
    agents = queue_serving_agents(queue)
    if agents == 0:
        return None
    if position is None:
        position = _waiting(queue).count() + 1
    idle = AgentStatus.objects.filter(
        state=AgentState.AVAILABLE,
        person__skills__queue=queue,
        person__is_active=True,
        escalations_only=False,
    ).count()
    if position <= idle:
        return 0.0  # an agent is free for this caller now
    return ((position - idle) / agents) * queue_handle_seconds(queue)


def bridge_options_for(person, call: Call) -> dict:
    """What the on-call panel offers for `call`: hold state, a transfer under way (and
    whether it is a 실장 연결), who and which queues it can go to, and who 실장 연결 rings
    now (`escalation`: the 실장, or none and why)."""
    from telephony.services.bridging import transfer_pending
    from telephony.services.transfers import escalation_target

    pending = transfer_pending(call)
    pending_kind, pending_to = "", None
    if pending is not None:
        started = pending.events.filter(kind="transferred_in").values_list("data", flat=True)
        data = started.first() or {}
        pending_kind = data.get("transfer_kind", "")
        pending_to = Person.objects.filter(pk=data.get("to_agent") or 0).first()
    consulting = (
        call.parent_id is not None
        and Call.objects.filter(pk=call.parent_id, phase=CallPhase.CONNECTED).exists()
    )
    colleagues = (
        Person.objects.filter(
            is_active=True,
            role__in=roles_that("take_calls"),
            status__state=AgentState.AVAILABLE,
            center_id=person.center_id,
        )
        .exclude(pk=person.pk)
        .select_related("team")
        .order_by("display_name")[:50]
    )
    return {
        "call": call,
        "on_hold": call.hold_started_at is not None,
        "pending": pending,
        "pending_kind": pending_kind,
        "pending_to": pending_to,
        "consulting": consulting,
        "escalation": escalation_target(person),
        "agents": list(colleagues),
        "queues": list(Queue.objects.select_related("department").order_by("id")),
    }


def handover_of(call: Call) -> dict | None:
    """Where the caller went when the agent handed them on (for the agent's wrap-up): the
    kind (Call.handover), to whom or which queue and why, and what is happening there now
    (`next`: the newer segment — ringing, answered by someone, waiting, or over)."""
    if not call.handover:
        return None
    nxt = (
        Call.objects.filter(parent=call).select_related("agent", "queue").order_by("-segment")
    ).first()
    started = (
        call.events.filter(kind="transfer").order_by("-id").values_list("data", flat=True).first()
    ) or {}
    return {
        "kind": call.handover,
        "label": call.get_handover_display(),
        "to": call.handover_to,
        "reason": started.get("reason", ""),
        "next": nxt,
    }


def callback_worth_offering(queue: Queue, expected_wait: float | None) -> bool:
    """Offer a callback (instead of holding) when the expected wait is over the queue's
    threshold; no agent serving the queue means an unknown, long wait."""
    return expected_wait is None or expected_wait > queue.callback_offer_wait_seconds


# --- Dialled number → voice menu / queue (read on every incoming call) -------------------
#
# Numbers, menus and queues change a few times a year, calls arrive many times a second:
# each process keeps what a number leads to for NUMBER_CACHE_SECONDS. A save or delete of
# a menu, department or queue clears this process's copy at once (telephony.apps); other
# processes see the change within the TTL.

NUMBER_CACHE_SECONDS = 30.0
_number_cache: dict[str, tuple[float, int | None, Queue | None]] = {}


def number_cache_clear(**_kwargs) -> None:
    _number_cache.clear()


def number_route(number: str) -> tuple[int | None, Queue | None]:
    """(id of the root voice menu on this number, the queue of the department that owns
    it); either may be None. `number` is E.164 as normalised by tickets.services."""
    import time

    from telephony.models import IvrMenu

    now = time.monotonic()
    hit = _number_cache.get(number)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    menu_id = IvrMenu.objects.filter(phone_number=number).values_list("pk", flat=True).first()
    queue = (
        Queue.objects.select_related("department").filter(department__phone_number=number).first()
    )
    _number_cache[number] = (now + NUMBER_CACHE_SECONDS, menu_id, queue)
    return menu_id, queue


def pending_offer_for(person: Person) -> Offer | None:
    """The call ringing for this person right now, if any."""
    return (
        Offer.objects.filter(agent=person, status=OfferStatus.PENDING)
        .select_related("call__customer", "call__queue")
        .order_by("-offered_at")
        .first()
    )
