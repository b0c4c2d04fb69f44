"""QA's part of the demo center (called from seed_demo; idempotent): the center's standard
scorecard, published; a sampling policy per department; last month's sample scored, so the
QA report has a month to compare with. This month is left for trainer1 to sample.

seed_demo keeps agent1 and agent2 out of the replayed history (their KPI starts with the
calls you take live); so that this month's sample has agent1 calls for lead1 to score and
agent1 to dispute, three handled, recorded calls of agent1 are replayed through the
telephony services on earlier days of this month (never today)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import (
    AgentState,
    AgentStatus,
    Center,
    Department,
    DepartmentKind,
    Person,
    Role,
)
from agents.services.states import agent_set_state
from callcenter.clock import month_start
from callcenter.dispatch import suppress_dispatch
from qa.models import (
    AutoFailMode,
    ComplianceTag,
    Evaluation,
    ItemKind,
    SamplingPolicy,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardStatus,
)
from qa.scoring import Mark
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start
from telephony.models import Call
from telephony.services.calls import call_hangup, call_recording_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid, new_recording_sid
from tickets.models import Customer

STANDARD_FAMILY = "standard-call"

# (section, weight, [(criterion, kind, max, weight, N/A, auto-fail, bonus, compliance)])
STANDARD = [
    (
        "오프닝",
        1,
        [
            ("첫인사와 소속·이름 안내", ItemKind.YES_NO, 1, 1, False, False, False, ""),
            (
                "녹취 고지",
                ItemKind.YES_NO,
                1,
                1,
                False,
                True,
                False,
                ComplianceTag.RECORDING_NOTICE,
            ),
            (
                "본인 확인",
                ItemKind.YES_NO,
                1,
                2,
                True,
                True,
                False,
                ComplianceTag.IDENTITY_VERIFIED,
            ),
        ],
    ),
    (
        "상담 내용",
        3,
        [
            ("고객 요구 파악(경청·질문)", ItemKind.SCALE, 5, 2, False, False, False, ""),
            (
                "정확한 안내 (오안내·오처리 없음)",
                ItemKind.YES_NO,
                1,
                3,
                False,
                True,
                False,
                ComplianceTag.CORRECT_GUIDANCE,
            ),
            ("해결책 제시와 대안 안내", ItemKind.SCALE, 5, 2, True, False, False, ""),
            (
                "개인정보 발화·기록 없음",
                ItemKind.YES_NO,
                1,
                2,
                False,
                False,
                False,
                ComplianceTag.NO_PII,
            ),
        ],
    ),
    (
        "응대 태도",
        2,
        [
            ("공감 표현과 어조", ItemKind.SCALE, 5, 2, False, False, False, ""),
            ("대기·보류 안내", ItemKind.YES_NO, 1, 1, True, False, False, ""),
            ("종료 인사와 추가 문의 확인", ItemKind.YES_NO, 1, 1, False, False, False, ""),
            ("고객 칭찬 유도 (가점)", ItemKind.POINTS, 5, 1, True, False, True, ""),
        ],
    ),
]


def build_scorecard(
    *,
    family: str = STANDARD_FAMILY,
    name: str = "표준 통화 평가표",
    department: Department | None = None,
    publish: bool = True,
    auto_fail_mode: str = AutoFailMode.OVERALL,
) -> Scorecard:
    card = Scorecard.objects.create(
        family=family,
        version=1,
        name=name,
        description="스크립트·정책·응대 예절 (센터 공통)",
        department=department,
        auto_fail_mode=auto_fail_mode,
        status=ScorecardStatus.PUBLISHED if publish else ScorecardStatus.DRAFT,
        published_at=timezone.now() if publish else None,
    )
    for s_pos, (title, weight, items) in enumerate(STANDARD):
        section = ScorecardSection.objects.create(
            scorecard=card, title=title, weight=weight, position=s_pos
        )
        for i_pos, (text, kind, mx, w, na, af, bonus, comp) in enumerate(items):
            ScorecardItem.objects.create(
                section=section,
                text=text,
                kind=kind,
                max_points=mx,
                weight=w,
                allow_na=na,
                auto_fail=af,
                bonus=bonus,
                compliance=comp,
                position=i_pos,
            )
    return card


def random_marks(card: Scorecard, rng: random.Random, *, skill: float) -> dict[int, Mark]:
    """Plausible answers: better agents (skill near 1) score higher."""
    marks = {}
    for item in ScorecardItem.objects.filter(section__scorecard=card):
        if item.allow_na and rng.random() < 0.15:
            marks[item.pk] = Mark(not_applicable=True)
        elif item.bonus:
            marks[item.pk] = Mark(value=float(rng.choice([0, 0, 0, 1, 2, 3])))
        elif item.kind == ItemKind.YES_NO:
            chance = 0.97 if item.auto_fail else skill
            marks[item.pk] = Mark(value=1.0 if rng.random() < chance else 0.0)
        else:
            marks[item.pk] = Mark(
                value=float(max(0, min(int(item.max_points), round(rng.gauss(skill * 5, 1)))))
            )
    return marks


def _agent1_calls(center: Center, rng: random.Random) -> None:
    """Three calls agent1 handled earlier this month, through the real services (the ACD
    offers them to agent1, the only agent available at that past moment)."""
    agent = Person.objects.filter(username="agent1", center=center, team__isnull=False).first()
    if agent is None or Call.objects.filter(agent=agent).exists():
        return
    if AgentStatus.objects.filter(person=agent).exclude(state=AgentState.OFFLINE).exists():
        return  # agent1 is working right now: leave their day alone
    dept = agent.team.department
    disposition = dept.dispositions.first()
    customers = list(Customer.objects.order_by("id")[:3])
    today = timezone.localdate()
    days = [
        today - timedelta(days=n) for n in (3, 2, 1) if today - timedelta(days=n) >= month_start()
    ]
    tz = timezone.get_current_timezone()
    with suppress_dispatch():
        for i, day in enumerate(days):
            t = datetime(day.year, day.month, day.day, 10 + i, 15, tzinfo=tz)
            customer = customers[i % len(customers)] if customers else None
            try:
                _agent1_call(agent, dept, disposition, customer, t, rng)
            except _NotOffered:
                # Other callers are waiting in the queue right now (a running demo): the
                # router offers them first. Skip; nothing of this call is kept.
                continue


class _NotOffered(Exception):
    pass


def _agent1_call(agent, dept, disposition, customer, t, rng) -> None:
    with transaction.atomic():
        agent_set_state(person=agent, state=AgentState.AVAILABLE, at=t)
        call = call_receive(
            sid=new_call_sid(),
            from_number=customer.phone if customer else "+821055550000",
            to_number=dept.phone_number,
            at=t + timedelta(seconds=5),
        )
        # Offered once the queue's tiers have widened to every skilled agent.
        widest = max([0, *call.queue.tiers.values_list("after_seconds", flat=True)])
        routed_at = t + timedelta(seconds=6 + widest)
        offers = [
            o
            for o in acd_route(queue_id=call.queue_id, at=routed_at)
            if o.agent_id == agent.pk and o.call_id == call.pk
        ]
        if not offers:
            raise _NotOffered
        talk = rng.randint(90, 200)
        offer_accept(agent=agent, offer_id=offers[0].pk, at=routed_at + timedelta(seconds=3))
        end = routed_at + timedelta(seconds=3 + talk)
        call = call_hangup(agent=agent, call_id=call.pk, at=end)
        call_recording_update(
            sid=call.sid,
            recording_sid=new_recording_sid(),
            url=f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/demo",
            status="completed",
            duration=int(call.talk_seconds or talk),
        )
        wrapup_submit(
            agent=agent,
            call_id=call.pk,
            disposition_id=disposition.pk,
            note="요금 문의 안내 완료.",
            subject="요금 문의",
            resolve=disposition.resolves,
            at=end + timedelta(seconds=40),
        )
        agent_set_state(person=agent, state=AgentState.OFFLINE, at=end + timedelta(seconds=60))


def seed(center: Center) -> None:
    _agent1_calls(center, random.Random(7))  # noqa: S311 (demo data)
    with transaction.atomic():
        if not Scorecard.objects.filter(family=STANDARD_FAMILY).exists():
            build_scorecard()
        for dept in Department.objects.filter(center=center):
            SamplingPolicy.objects.get_or_create(
                department=dept,
                defaults={"calls_per_agent": 3 if dept.kind == DepartmentKind.CANCELLATION else 2},
            )
    trainer = Person.objects.filter(role=Role.TRAINING_LEAD, center=center).first()
    if trainer is None:
        return
    last_month = month_start(month_start() - timedelta(days=1))
    if Evaluation.objects.filter(month=last_month, calibration__isnull=True).exists():
        return
    run = sample_run_start(actor=trainer, month=last_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    rng = random.Random(last_month.toordinal())  # noqa: S311 (demo data)
    skills: dict[int, float] = {}
    for evaluation in Evaluation.objects.filter(sample_run=run).select_related("scorecard"):
        skill = skills.setdefault(evaluation.agent_id, rng.uniform(0.6, 0.95))
        evaluation_save(
            evaluation=evaluation,
            actor=evaluation.evaluator,
            marks=random_marks(evaluation.scorecard, rng, skill=skill),
            feedback="지난달 정기 평가",
            submit=True,
            at=timezone.now() - timedelta(days=rng.randint(3, 10)),
        )
