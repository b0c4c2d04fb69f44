"""The demo center's people and places: one center, three departments with their queues and
dispositions, six teams, ~60 people with the demo logins, ~500 customers, and the voice menu
on the 대표번호 with its opening hours and holidays."""

from __future__ import annotations

import random
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth.hashers import make_password

from agents.models import (
    Center,
    Department,
    DepartmentKind,
    Person,
    QueueMembership,
    Role,
    Team,
)
from agents.services.states import agent_status_ensure
from telephony.models import (
    FullAction,
    IvrAction,
    IvrMenu,
    IvrOption,
    OpeningHours,
    Queue,
    QueueTier,
    RoutingStrategy,
)
from tickets.models import Customer, Disposition, Holiday

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


def reset_passwords(password: str) -> None:
    Person.objects.filter(username__in=DEMO_LOGINS).update(password=make_password(password))


# --- the voice menu on the 대표번호 (idempotent: an existing menu is kept as edited) ----------
def ivr_ensure(center: Center) -> None:
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
            OpeningHours(menu=menu, weekday=day, opens=time(9), closes=time(18)) for day in range(7)
        )
    for day, name in HOLIDAYS:
        Holiday.objects.get_or_create(center=center, date=day, defaults={"name": name})


# --- the org chart ---------------------------------------------------------------------
def org_create(rng: random.Random, password: str, since: datetime):
    names = korean_names(rng)
    center = Center.objects.create(name=CENTER_NAME, timezone=settings.TIME_ZONE)
    hashed = make_password(password)  # hashing is slow by design: once, not 60 times

    def person(username: str, role: str, **extra) -> Person:
        p = Person(username=username, display_name=next(names), role=role, center=center, **extra)
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
        dept = Department.objects.create(center=center, name=name, kind=kind, phone_number=number)
        queue = Queue.objects.create(department=dept, name=f"{name} 대기열", **QUEUE_POLICY[kind])
        # Experts first; after 10 s (well inside the 20 s service level) anyone with
        # the skill may take the call.
        QueueTier.objects.create(queue=queue, after_seconds=0, min_proficiency=6)
        QueueTier.objects.create(queue=queue, after_seconds=10, min_proficiency=1)
        for code, label, resolves in dispositions:
            Disposition.objects.create(department=dept, code=code, label=label, resolves=resolves)
        manager = (
            managers[0]
            if kind in (DepartmentKind.GENERAL, DepartmentKind.CANCELLATION)
            else managers[1]
        )
        manager.managed_departments.add(dept)
        for team_no in (1, 2):
            # The daily call target comes from the center's targets (demo/seed/kpi.py).
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
                QueueMembership.objects.create(person=agent, queue=queue, proficiency=proficiency)
        departments.append(dept)
    # 가입 callers who wait 90 s may be taken by 일반 agents.
    by_kind = {d.kind: d.queue for d in departments}
    Queue.objects.filter(pk=by_kind[DepartmentKind.SIGNUP].pk).update(
        overflow_queue=by_kind[DepartmentKind.GENERAL], overflow_after_seconds=90
    )
    return center, departments


def korean_names(rng: random.Random):
    seen = set()
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in seen:
            seen.add(name)
            yield name


def customers_create(rng: random.Random, count: int) -> list[Customer]:
    names = korean_names(rng)
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
