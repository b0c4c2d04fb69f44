"""QA's part of the demo center (called from seed_demo; idempotent): the center's standard
scorecard, published; a sampling policy per department; last month's sample scored, so the
QA report has a month to compare with. This month is left for trainer1 to sample."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import Center, Department, DepartmentKind, Person, Role
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


def seed(center: Center) -> None:
    from qa.selectors import month_start
    from qa.services import evaluation_save, sample_run_execute, sample_run_start

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
