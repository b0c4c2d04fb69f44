"""Demo data: one center, three departments, six teams, ~60 people, ~500 customers and
30 days of calls replayed through the same services real calls use."""

from __future__ import annotations

import heapq
import itertools
import random
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agents.models import (
    AgentState,
    Center,
    Department,
    DepartmentKind,
    Person,
    QueueMembership,
    Role,
    Team,
)
from agents.services import agent_set_state, agent_status_ensure
from callcenter.dispatch import suppress_dispatch
from kpi import demo as kpi_demo
from qa import demo as qa_demo
from telephony import services as tel
from telephony.models import (
    Call,
    CallPhase,
    FullAction,
    IvrAction,
    IvrMenu,
    IvrOption,
    OpeningHours,
    Queue,
    QueueTier,
    RoutingStrategy,
)
from telephony.simulator import new_call_sid, new_recording_sid
from tickets import demo as tickets_demo
from tickets.models import Customer, Disposition, Holiday, TicketStatus

CENTER_NAME = "상담 고객센터"
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모남궁탁국어은편용예경봉사부황보"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "하은",
    "시우",
    "지유",
    "주원",
    "서윤",
    "하준",
    "지우",
    "예준",
    "수아",
    "지호",
    "하린",
    "준서",
    "지민",
    "현우",
    "채원",
    "건우",
    "다은",
    "우진",
    "예린",
    "선우",
    "수빈",
    "연우",
    "유진",
    "정우",
    "가은",
    "승현",
    "소율",
    "민재",
    "예은",
    "현준",
    "윤서",
    "지훈",
    "민서",
    "태윤",
    "아린",
    "은우",
    "나연",
]

# Queue policies per department: 해지 goes to its best retention agents first.
QUEUE_POLICY = {
    DepartmentKind.GENERAL: {"strategy": RoutingStrategy.LONGEST_IDLE},
    DepartmentKind.SIGNUP: {"strategy": RoutingStrategy.LONGEST_IDLE},
    DepartmentKind.CANCELLATION: {
        "strategy": RoutingStrategy.SKILL_LEVEL,
        "full_action": FullAction.CALLBACK,
    },
}
DEPARTMENTS = [
    (
        "가입",
        DepartmentKind.SIGNUP,
        "+8225550101",
        [
            ("signed_up", "가입 완료", True),
            ("info_only", "상품 안내", True),
            ("callback", "재연락 필요", False),
        ],
    ),
    (
        "해지",
        DepartmentKind.CANCELLATION,
        "+8225550102",
        [
            ("saved", "해지 방어 성공", True),
            ("not_saved", "해지 처리", True),
            ("callback", "재연락 필요", False),
        ],
    ),
    (
        "일반",
        DepartmentKind.GENERAL,
        "+8225550103",
        [
            ("resolved", "문의 해결", True),
            ("info", "단순 안내", True),
            ("escalated", "이관", False),
        ],
    ),
]
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


class Command(BaseCommand):
    help = "Create the demo center (idempotent: an existing demo is kept; passwords are reset)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--calls-per-day", type=int, default=70)
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--seed", type=int, default=20261122)

    def handle(self, *args, **opts):
        rng = random.Random(opts["seed"])
        password = settings.DEMO_PASSWORD
        if Center.objects.filter(name=CENTER_NAME).exists():
            self._reset_passwords(password)
            self._ivr(Center.objects.get(name=CENTER_NAME))
            tickets_demo.seed(Center.objects.get(name=CENTER_NAME))
            qa_demo.seed(Center.objects.get(name=CENTER_NAME))
            self.stdout.write("Demo already seeded; demo passwords reset.")
            return
        with suppress_dispatch():
            with transaction.atomic():
                history_start = timezone.now() - timedelta(days=opts["days"] + 1)
                center, departments = self._org(rng, password, history_start)
                customers = self._customers(rng, opts["customers"])
                self._ivr(center)
                tickets_demo.seed(center)
            self._history(
                rng, departments, customers, days=opts["days"], per_day=opts["calls_per_day"]
            )
            tickets_demo.seed_work()  # once there is history to work on
        qa_demo.seed(center)
        call_command("kpi_backfill", days=opts["days"] + 1, stdout=self.stdout)
        kpi_demo.seed(days=opts["days"] + 1)  # targets, surveys, evaluations (kpi/demo.py)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {Person.objects.count()} people, {Customer.objects.count()} customers, "
                f"{Call.objects.count()} calls."
            )
        )

    def _reset_passwords(self, password: str) -> None:
        Person.objects.filter(username__in=DEMO_LOGINS).update(password=make_password(password))

    # --- the voice menu on the 대표번호 (idempotent: an existing menu is kept as edited) ------
    def _ivr(self, center: Center) -> None:
        queues = {q.department.kind: q for q in Queue.objects.filter(department__center=center)}
        general = queues.get(DepartmentKind.GENERAL)
        menu, created = IvrMenu.objects.get_or_create(
            phone_number=IVR_NUMBER,
            defaults={
                "name": "대표번호",
                "center": center,
                "greeting_ko": "안녕하십니까, 상담 고객센터입니다.",
                "greeting_en": "Hello, this is the Sangdam customer center.",
                "prompt_ko": "가입 상담은 1번, 해지 상담은 2번, 요금과 그 밖의 문의는 3번, "
                "기다리지 않고 전화 예약을 하시려면 0번을 눌러 주세요.",
                "prompt_en": "For a new subscription press 1, to cancel press 2, for billing "
                "and anything else press 3. To book a callback instead of waiting, press 0.",
                "closed_message_ko": "지금은 상담 시간이 아닙니다. 상담 시간은 매일 오전 9시부터 "
                "오후 6시까지입니다.",
                "closed_message_en": "We are closed now. We are open every day from 9 am to 6 pm.",
                "default_queue": general,
            },
        )
        if created:
            options = [
                ("1", "가입", "Sign-up", IvrAction.QUEUE, DepartmentKind.SIGNUP, "가입, 신규"),
                ("2", "해지", "Cancellation", IvrAction.QUEUE, DepartmentKind.CANCELLATION, "해지"),
                ("3", "일반", "General", IvrAction.QUEUE, DepartmentKind.GENERAL, "요금, 문의"),
                ("0", "전화 예약", "Callback", IvrAction.CALLBACK, DepartmentKind.GENERAL, ""),
            ]
            for digit, label_ko, label_en, action, kind, keywords in options:
                IvrOption.objects.create(
                    menu=menu,
                    digit=digit,
                    label_ko=label_ko,
                    label_en=label_en,
                    action=action,
                    queue=queues.get(kind),
                    speech_keywords=keywords,
                )
            # Open every day, like the replayed history; 9 switches to English.
            OpeningHours.objects.bulk_create(
                OpeningHours(menu=menu, weekday=day, opens=time(9), closes=time(18))
                for day in range(7)
            )
        for day, name in HOLIDAYS:
            Holiday.objects.get_or_create(center=center, date=day, defaults={"name": name})

    # --- the org chart -----------------------------------------------------------------
    def _org(self, rng: random.Random, password: str, since: datetime):
        names = self._names(rng)
        center = Center.objects.create(name=CENTER_NAME, timezone=settings.TIME_ZONE)
        hashed = make_password(password)  # hashing is slow by design: once, not 60 times

        def person(username: str, role: str, **extra) -> Person:
            p = Person(
                username=username, display_name=next(names), role=role, center=center, **extra
            )
            p.password = hashed
            p.save()
            agent_status_ensure(person=p, at=since)
            return p

        director = person("director", Role.DIRECTOR)
        person("admin", Role.ADMIN, is_staff=True, is_superuser=True)
        person("trainer1", Role.TRAINING_LEAD, reports_to=director)
        managers = [
            person("manager1", Role.MANAGER, reports_to=director),
            person("manager2", Role.MANAGER, reports_to=director),
        ]
        departments = []
        lead_no = agent_no = 0
        # 일반 first so that agent1 / lead1 / manager1 are in the general department.
        for name, kind, number, dispositions in [DEPARTMENTS[2], DEPARTMENTS[0], DEPARTMENTS[1]]:
            dept = Department.objects.create(
                center=center, name=name, kind=kind, phone_number=number
            )
            queue = Queue.objects.create(
                department=dept, name=f"{name} 대기열", **QUEUE_POLICY[kind]
            )
            # Experts first; after 10 s (well inside the 20 s service level) anyone with
            # the skill may take the call.
            QueueTier.objects.create(queue=queue, after_seconds=0, min_proficiency=6)
            QueueTier.objects.create(queue=queue, after_seconds=10, min_proficiency=1)
            for code, label, resolves in dispositions:
                Disposition.objects.create(
                    department=dept, code=code, label=label, resolves=resolves
                )
            manager = (
                managers[0]
                if kind in (DepartmentKind.GENERAL, DepartmentKind.CANCELLATION)
                else managers[1]
            )
            manager.managed_departments.add(dept)
            for team_no in (1, 2):
                # The daily call target comes from the center's targets (kpi/demo.py).
                team = Team.objects.create(department=dept, name=f"{name} {team_no}팀")
                lead_no += 1
                lead = person(f"lead{lead_no}", Role.TEAM_LEAD, team=team, reports_to=manager)
                QueueMembership.objects.create(person=lead, queue=queue, proficiency=10)
                for _ in range(8):
                    agent_no += 1
                    agent = person(
                        f"agent{agent_no}",
                        Role.AGENT,
                        team=team,
                        reports_to=lead,
                        employee_no=f"S{agent_no:04d}",
                    )
                    proficiency = rng.randint(3, 9)
                    if agent_no == 1:
                        # The README's agent: in the queue's first tier (6 and up), so the
                        # first call waits for no expert colleague (agent1 is kept out of
                        # the replayed history, which stays as it was).
                        proficiency = max(proficiency, 6)
                    QueueMembership.objects.create(
                        person=agent, queue=queue, proficiency=proficiency
                    )
            departments.append(dept)
        # 가입 callers who wait 90 s may be taken by 일반 agents.
        by_kind = {d.kind: d.queue for d in departments}
        Queue.objects.filter(pk=by_kind[DepartmentKind.SIGNUP].pk).update(
            overflow_queue=by_kind[DepartmentKind.GENERAL], overflow_after_seconds=90
        )
        return center, departments

    def _names(self, rng: random.Random):
        seen = set()
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in seen:
                seen.add(name)
                yield name

    def _customers(self, rng: random.Random, count: int) -> list[Customer]:
        names = self._names(rng)
        customers = [
            Customer(
                name=next(names) if i % 7 else "",
                phone=f"+8210{rng.randint(20000000, 99999999)}",
                is_vip=i % 25 == 3,  # about 4 % VIP customers, who wait ahead in queues
            )
            for i in range(count)
        ]
        return Customer.objects.bulk_create(customers)

    # --- 30 days of calls, through the real services ----------------------------------------
    def _history(self, rng, departments, customers, *, days: int, per_day: int) -> None:
        now = timezone.now()
        today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
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
                call = tel.call_receive(
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
                    call = tel.offer_accept(agent=agent, offer_id=offer_id, at=t)
                except ValidationError:
                    continue
                talk = max(30, int(rng.lognormvariate(5.1, 0.5)))
                at(t + timedelta(seconds=talk), "hangup", call.pk, agent)
            elif kind == "hangup":
                call_id, agent = payload
                call = tel.call_hangup(agent=agent, call_id=call_id, at=t)
                tel.call_recording_update(
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
                    tel.call_status_update(
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
        for offer in tel.acd_route(queue_id=queue_id, at=t):
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
        tel.wrapup_submit(
            agent=agent,
            call_id=call_id,
            disposition_id=disposition.pk,
            note=rng.choice(NOTES),
            ticket_id=open_ticket.pk if open_ticket and rng.random() < 0.7 else None,
            subject=rng.choice(SUBJECTS[call.department.kind]),
            resolve=disposition.resolves,
            at=t,
        )


DEMO_LOGINS = ["director", "admin", "trainer1", "manager1", "manager2", "lead1", "agent1", "agent2"]

IVR_NUMBER = "+8215880000"  # 대표번호 (1588-0000)
HOLIDAYS = [
    (date(2026, 1, 1), "신정"),
    (date(2026, 2, 16), "설날 연휴"),
    (date(2026, 2, 17), "설날"),
    (date(2026, 2, 18), "설날 연휴"),
    (date(2026, 5, 5), "어린이날"),
    (date(2026, 9, 24), "추석 연휴"),
    (date(2026, 9, 25), "추석"),
    (date(2026, 9, 26), "추석 연휴"),
    (date(2026, 10, 9), "한글날"),
    (date(2026, 12, 25), "성탄절"),
    (date(2027, 1, 1), "신정"),
    (date(2027, 2, 6), "설날 연휴"),
    (date(2027, 2, 7), "설날"),
    (date(2027, 2, 8), "설날 연휴"),
    (date(2027, 2, 9), "설날 대체공휴일"),
    (date(2027, 9, 14), "추석 연휴"),
    (date(2027, 9, 15), "추석"),
    (date(2027, 9, 16), "추석 연휴"),
    (date(2027, 12, 25), "성탄절"),
]
