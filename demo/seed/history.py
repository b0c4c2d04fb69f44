"""The demo's past: days of calls replayed through the same services real calls use
(arrivals with mid-morning and mid-afternoon peaks, a thin shift of agents, callers who lose
patience, wrap-ups with dispositions, notes and tickets), one commit per day."""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import AgentState, DepartmentKind, Person, Role
from agents.services.states import agent_set_state
from callcenter.clock import day_bounds
from telephony.models import Call, CallPhase, Queue
from telephony.services.calls import (
    call_hangup,
    call_recording_update,
    call_status_update,
    offer_accept,
)
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid, new_recording_sid
from tickets.models import TicketStatus

SUBJECTS = {
    DepartmentKind.SIGNUP: [
        "인터넷 가입 문의",
        "요금제 변경 상담",
        "결합 상품 문의",
        "신규 회선 가입",
    ],
    DepartmentKind.CANCELLATION: ["해지 요청", "위약금 문의", "이사로 인한 해지", "타사 이동 문의"],
    DepartmentKind.GENERAL: ["요금 청구 문의", "장애 신고", "명의 변경 문의", "납부 방법 변경"],
}
NOTES = [
    "고객 요청 사항 확인 후 안내 완료.",
    "요금 내역 설명, 고객 이해함.",
    "추가 확인 필요하여 재연락 예정.",
    "상품 혜택 안내 후 고객 동의.",
    "처리 절차 안내, 문자로 안내 예정.",
    "고객 불편 사항 청취 및 사과.",
]


class Replay:
    """Replays the history, writing its progress to `stdout` (a command's)."""

    def __init__(self, stdout) -> None:
        self.stdout = stdout

    def run(self, rng, departments, customers, *, days: int, per_day: int) -> None:
        now = timezone.now()
        today, _ = day_bounds(now)
        agents_by_dept = {
            d.pk: list(
                Person.objects.filter(role=Role.AGENT, team__department=d).exclude(
                    username__in=("agent1", "agent2")
                )
            )
            for d in departments
        }
        total = 0
        for day_offset in range(days, -1, -1):
            day = today - timedelta(days=day_offset)
            # Open every day, 09:00–18:00 (today up to ten minutes ago), like most centers.
            open_at, close_at = day.replace(hour=9), day.replace(hour=18)
            end = min(close_at, now - timedelta(minutes=10))
            if end <= open_at:
                continue
            with transaction.atomic():  # one commit per day keeps the replay fast
                total += self._day(
                    rng, departments, customers, agents_by_dept, open_at, end, per_day
                )
            self.stdout.write(f"\r  history: {day:%Y-%m-%d} · {total} calls", ending="")
            self.stdout.flush()
        self.stdout.write("")

    def _day(
        self,
        rng,
        departments,
        customers,
        agents_by_dept,
        start: datetime,
        end: datetime,
        per_day: int,
    ) -> int:
        seq = itertools.count()
        heap: list = []

        def at(t: datetime, kind: str, *payload) -> None:
            heapq.heappush(heap, (t, next(seq), kind, payload))

        on_shift = []
        for dept in departments:
            staff = agents_by_dept[dept.pk]
            # A thin shift, so the replayed days have queues, waits and some abandons; as on
            # a real roster, one of the two is an experienced agent of the queue.
            expert = rng.choice([a for a in staff if self._skill(a, dept) >= 6] or staff)
            on_shift += [expert, rng.choice([a for a in staff if a != expert])]
        for agent in on_shift:
            agent_set_state(
                person=agent,
                state=AgentState.AVAILABLE,
                at=start + timedelta(seconds=rng.randint(0, 600)),
            )
        span = (end - start).total_seconds()
        calls = int(per_day * span / (9 * 3600))
        for _ in range(calls):
            dept = rng.choice(departments)
            # Mid-morning and mid-afternoon peaks, as on a real floor.
            offset = rng.choice(
                [rng.random() * span, rng.gauss(0.2, 0.08) * span, rng.gauss(0.6, 0.1) * span]
            )
            t = start + timedelta(seconds=min(max(offset, 0), span - 1))
            at(t, "arrive", dept, rng.choice(customers).phone)
        count = 0
        while heap:
            t, _, kind, payload = heapq.heappop(heap)
            if kind == "arrive":
                dept, phone = payload
                call = call_receive(
                    sid=new_call_sid(), from_number=phone, to_number=dept.phone_number, at=t
                )
                at(t + timedelta(seconds=rng.randint(20, 300)), "patience", call.pk)
                self._route(rng, at, call.queue_id, t)
                # The live sweep re-routes every 2 s; here the moments that matter are
                # when the call's wait widens its tiers or reaches the overflow queue.
                for widen in self._widening_seconds(call.queue):
                    at(t + timedelta(seconds=widen + 0.5), "reroute", call.queue_id)
                count += 1
            elif kind == "reroute":
                (queue_id,) = payload
                self._route(rng, at, queue_id, t)
            elif kind == "accept":
                offer_id, agent = payload
                try:
                    call = offer_accept(agent=agent, offer_id=offer_id, at=t)
                except ValidationError:
                    continue
                talk = max(30, int(rng.lognormvariate(5.1, 0.5)))
                at(t + timedelta(seconds=talk), "hangup", call.pk, agent)
            elif kind == "hangup":
                call_id, agent = payload
                call = call_hangup(agent=agent, call_id=call_id, at=t)
                call_recording_update(
                    sid=call.sid,
                    recording_sid=new_recording_sid(),
                    url=f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/demo",
                    status="completed",
                    duration=int(call.talk_seconds or 0),
                )
                at(t + timedelta(seconds=rng.randint(15, 100)), "wrapup", call_id, agent)
            elif kind == "wrapup":
                call_id, agent = payload
                self._wrapup(rng, call_id, agent, t)
                self._route(rng, at, None, t)
            elif kind == "patience":
                (call_id,) = payload
                call = Call.objects.get(pk=call_id)
                if call.phase in (CallPhase.QUEUED, CallPhase.OFFERED):
                    call_status_update(
                        sid=call.sid, status="completed", sequence_number=0, duration=0, at=t
                    )
                    self._route(rng, at, call.queue_id, t)
        for agent in on_shift:
            agent_set_state(
                person=agent,
                state=AgentState.OFFLINE,
                at=end + timedelta(minutes=rng.randint(1, 20)),
            )
        return count

    def _skill(self, agent: Person, dept) -> int:
        skill = agent.skills.filter(queue__department=dept).first()
        return skill.proficiency if skill else 0

    def _widening_seconds(self, queue: Queue) -> list[int]:
        steps = [tier.after_seconds for tier in queue.tiers.all() if tier.after_seconds > 0]
        if queue.overflow_queue_id and queue.overflow_after_seconds:
            steps.append(queue.overflow_after_seconds)
        return steps

    def _route(self, rng, at, queue_id, t: datetime) -> None:
        for offer in acd_route(queue_id=queue_id, at=t):
            at(t + timedelta(seconds=rng.randint(2, 9)), "accept", offer.pk, offer.agent)

    def _wrapup(self, rng, call_id: int, agent: Person, t: datetime) -> None:
        call = Call.objects.select_related("department", "customer").get(pk=call_id)
        dispositions = list(call.department.dispositions.all())
        disposition = rng.choice(dispositions)
        open_ticket = (
            call.customer.tickets.filter(
                department=call.department,
                status__in=[TicketStatus.OPEN, TicketStatus.NEW],
                team=agent.team,
            ).first()
            if call.customer
            else None
        )
        wrapup_submit(
            agent=agent,
            call_id=call_id,
            disposition_id=disposition.pk,
            note=rng.choice(NOTES),
            ticket_id=open_ticket.pk if open_ticket and rng.random() < 0.7 else None,
            subject=rng.choice(SUBJECTS[call.department.kind]),
            resolve=disposition.resolves,
            at=t,
        )
