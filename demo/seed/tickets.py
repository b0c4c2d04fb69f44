"""Demo data for tickets: categories, SLA targets on the center's business hours, call
scripts and canned responses per department. Idempotent (get_or_create)."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from agents.models import ApprovalRequest, Center, DepartmentKind, Person
from tickets.models import (
    BusinessHours,
    CallScript,
    CannedResponse,
    FollowUpTask,
    SlaPolicy,
    Ticket,
    TicketCategory,
)
from tickets.services.followups import followup_create
from tickets.services.tickets import ticket_escalate, ticket_note_add

CATEGORIES = {
    DepartmentKind.SIGNUP: ["요금제 가입", "번호 이동", "기기 변경"],
    DepartmentKind.CANCELLATION: ["위약금 문의", "해지 접수", "해지 방어"],
    DepartmentKind.GENERAL: ["요금 문의", "환불 요청", "장애 신고", "명의 변경"],
}
SLA = {  # priority: (first response, resolution) in business minutes, warning ahead
    "urgent": (30, 240, 30),
    "high": (60, 480, 60),
    "normal": (240, 1440, 120),
    "low": (480, 2880, 240),
}
SCRIPTS = {
    DepartmentKind.GENERAL: (
        "기본 응대",
        "1. 인사: 안녕하십니까, 상담 고객센터 ○○○입니다.\n"
        "2. 본인 확인: 성함과 생년월일을 여쭙니다 (메모에 적지 않습니다).\n"
        "3. 문의 청취 후 요약해 확인합니다.\n"
        "4. 안내 후 추가 문의를 여쭙고 마무리합니다.",
    ),
    DepartmentKind.CANCELLATION: (
        "해지 방어",
        "1. 해지 사유를 여쭙니다.\n2. 사유에 맞는 혜택(요금 할인, 약정 변경)을 안내합니다.\n"
        "3. 위약금을 정확히 안내합니다.\n4. 결과(방어/해지)를 후처리에 남깁니다.",
    ),
    DepartmentKind.SIGNUP: (
        "가입 안내",
        "1. 원하시는 요금제와 사용량을 여쭙니다.\n2. 적합한 요금제 두 가지를 비교 안내합니다.\n"
        "3. 가입 서류와 절차를 안내합니다.",
    ),
}
CANNED = [
    ("요금 안내 완료", "요금 청구 내역을 안내드렸고 고객님께서 이해하셨습니다."),
    ("회신 예정", "확인 후 영업일 기준 1일 이내에 다시 연락드리기로 했습니다."),
    ("서류 요청", "처리에 필요한 서류를 문자로 안내드렸습니다. 회신을 기다립니다."),
]
REFUND_SCRIPT = (
    "환불 요청 응대",
    "1. 환불 사유와 금액을 확인합니다.\n2. 상담원 권한(3만 원) 초과 시 실장 승인을 요청합니다.\n"
    "3. 처리 예정일을 안내합니다.",
)


def seed(center: Center | None = None) -> None:
    center = center or Center.objects.order_by("id").first()
    if center is None:
        return
    for day in range(5):
        BusinessHours.objects.get_or_create(
            center=center, weekday=day, defaults={"opens": time(9), "closes": time(18)}
        )
    for priority, (first, resolution, warn) in SLA.items():
        SlaPolicy.objects.get_or_create(
            center=center,
            priority=priority,
            defaults={
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "warn_before_minutes": warn,
            },
        )
    for dept in center.departments.all():
        for name in CATEGORIES.get(dept.kind, []):
            TicketCategory.objects.get_or_create(department=dept, name=name)
        if dept.kind in SCRIPTS:
            title, body = SCRIPTS[dept.kind]
            CallScript.objects.get_or_create(department=dept, title=title, defaults={"body": body})
        refund = TicketCategory.objects.filter(department=dept, name="환불 요청").first()
        if refund:
            CallScript.objects.get_or_create(
                department=dept,
                category=refund,
                title=REFUND_SCRIPT[0],
                defaults={"body": REFUND_SCRIPT[1]},
            )
        for title, body in CANNED:
            CannedResponse.objects.get_or_create(
                department=dept, title=title, defaults={"body": body}
            )
    seed_work()


def seed_work() -> None:
    """A few things waiting when the demo starts (once): agent1's follow-up call in five
    minutes, a public update on one of their team's tickets, and an escalation waiting in
    lead1's inbox."""
    agent = Person.objects.filter(username="agent1").first()
    if (
        agent is None
        or agent.team_id is None
        or FollowUpTask.objects.filter(assignee=agent).exists()
    ):
        return
    tickets = list(
        Ticket.objects.filter(team_id=agent.team_id, status="open").order_by("-updated_at")[:2]
    )
    if len(tickets) < 2:
        return
    now = timezone.now()
    followup_create(
        actor=agent,
        customer=tickets[0].customer,
        ticket=tickets[0],
        due_at=now + timedelta(minutes=5),
        note="처리 결과 안내 전화",
        at=now,
    )
    ticket_note_add(
        actor=agent,
        ticket=tickets[0],
        body="요청하신 내용을 확인 중입니다. 영업일 1일 이내에 연락드리겠습니다.",
        is_public=True,
        at=now,
    )
    if not ApprovalRequest.objects.filter(team_id=agent.team_id, status="pending").exists():
        ticket_escalate(
            actor=agent,
            ticket_id=tickets[1].pk,
            reason="요금 감면 요구가 상담원 권한 밖입니다. 실장님 통화 부탁드립니다.",
            at=now,
        )
