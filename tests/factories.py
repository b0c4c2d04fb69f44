"""Test data: one factory per model, with traits for the states tests need (a call `handled`,
`abandoned`, `queued`, `connected`, `in_wrapup`, `recorded`; a person `agent`, `team_lead`, …).

Numbers are what the center stores: E.164, Korean mobiles +8210xxxxxxxx for callers and
customers, Seoul landlines +822xxxxxxxx for departments. Free text is plain words with no
identifiers in it, so nothing here trips the PII guard (callcenter/pii.py)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

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
from demo.seed.qa import build_scorecard
from qa.models import Evaluation, EvaluationStatus
from telephony.models import Call, CallDirection, CallPhase, Queue, Survey, SurveyChannel
from tickets.models import Customer, Disposition, Ticket, TicketStatus

ANSWERED = {CallPhase.CONNECTED, CallPhase.WRAP_UP, CallPhase.COMPLETED}
WAITING = {CallPhase.QUEUED, CallPhase.OFFERED}
ENDED = {CallPhase.COMPLETED, CallPhase.ABANDONED, CallPhase.FAILED, CallPhase.VOICEMAIL}


class CenterFactory(DjangoModelFactory):
    class Meta:
        model = Center

    name = factory.Sequence(lambda n: f"센터 {n}")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        skip_postgeneration_save = True

    center = factory.SubFactory(CenterFactory)
    name = factory.Sequence(lambda n: f"부서 {n}")
    kind = DepartmentKind.GENERAL
    phone_number = factory.Sequence(lambda n: f"+822555{n:04d}")
    # Every department takes calls through its queue: `queue__name=…` sets it up,
    # `queue=None` leaves it out.
    queue = factory.RelatedFactory(
        "tests.factories.QueueFactory", factory_related_name="department"
    )


class QueueFactory(DjangoModelFactory):
    class Meta:
        model = Queue

    department = factory.SubFactory(DepartmentFactory, queue=None)
    name = factory.LazyAttribute(lambda o: f"{o.department.name} 대기열")


class DispositionFactory(DjangoModelFactory):
    class Meta:
        model = Disposition

    department = factory.SubFactory(DepartmentFactory)
    code = "resolved"
    label = "해결"
    resolves = True

    class Params:
        callback = factory.Trait(code="callback", label="재연락", resolves=False)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"팀 {n}")


class PersonFactory(DjangoModelFactory):
    """A person who can log in (password "pw") with their agent status row, as the app's
    services make them (agents.services.states.agent_status_ensure)."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("pw")
    role = Role.AGENT
    center = factory.LazyAttribute(lambda o: o.team.department.center if o.team else None)
    # Agents and team leads belong to a team (person_agents_and_leads_have_a_team).
    team = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role in (Role.AGENT, Role.TEAM_LEAD)),
        factory.SubFactory(TeamFactory),
        None,
    )

    class Params:
        agent = factory.Trait(role=Role.AGENT)
        team_lead = factory.Trait(role=Role.TEAM_LEAD)
        manager = factory.Trait(role=Role.MANAGER)
        director = factory.Trait(role=Role.DIRECTOR)

    @factory.post_generation
    def status(obj, create, extracted, **kwargs):
        if create:
            agent_status_ensure(person=obj)

    @factory.post_generation
    def managed_departments(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managed_departments.add(*extracted)


class QueueMembershipFactory(DjangoModelFactory):
    class Meta:
        model = QueueMembership

    person = factory.SubFactory(PersonFactory)
    queue = factory.SubFactory(QueueFactory)
    proficiency = 5


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    phone = factory.Sequence(lambda n: f"+8210{55500000 + n:08d}")
    name = "홍길동"


class CallFactory(DjangoModelFactory):
    """An inbound call in the phase asked for (handled by default). Its times follow from
    `ended` (when the call ended; an hour ago unless given) or `enqueued_at`, and the
    `wait`, `talk`, `hold` and `acw` seconds."""

    class Meta:
        model = Call

    class Params:
        ended = None
        wait = 20.0
        talk = 120.0
        hold = 0.0
        acw = 30.0
        handled = factory.Trait(phase=CallPhase.COMPLETED)
        connected = factory.Trait(phase=CallPhase.CONNECTED)
        in_wrapup = factory.Trait(phase=CallPhase.WRAP_UP)
        queued = factory.Trait(phase=CallPhase.QUEUED, agent=None)
        ringing = factory.Trait(phase=CallPhase.OFFERED)
        abandoned = factory.Trait(phase=CallPhase.ABANDONED, agent=None)
        recorded = factory.Trait(
            recording_sid=factory.LazyAttribute(lambda o: "RE" + o.sid[2:]),
            recording_url=factory.LazyAttribute(
                lambda o: (
                    "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/" + o.recording_sid
                )
            ),
            recording_status="completed",
            recording_duration_seconds=factory.LazyAttribute(lambda o: int(o.talk)),
        )

    sid = factory.Sequence(lambda n: f"CA{n:032d}")
    direction = CallDirection.INBOUND
    phase = CallPhase.COMPLETED
    twilio_status = factory.LazyAttribute(
        lambda o: (
            "ringing" if o.phase in WAITING else "completed" if o.phase in ENDED else "in-progress"
        )
    )
    agent = None
    team = factory.LazyAttribute(lambda o: o.agent.team if o.agent else None)
    department = factory.LazyAttribute(
        lambda o: o.agent.team.department if o.agent else DepartmentFactory()
    )
    queue = factory.LazyAttribute(lambda o: o.department.queue)
    customer = None
    from_number = factory.LazyAttributeSequence(
        lambda o, n: o.customer.phone if o.customer else f"+8210{22220000 + n:08d}"
    )
    to_number = factory.LazyAttribute(lambda o: o.department.phone_number)
    enqueued_at = factory.LazyAttribute(
        lambda o: (
            (o.ended or timezone.now() - timedelta(hours=1))
            - timedelta(seconds=(o.wait or 0) + (o.talk + o.hold if o.phase in ANSWERED else 0))
        )
    )
    answered_at = factory.LazyAttribute(
        lambda o: o.enqueued_at + timedelta(seconds=o.wait) if o.phase in ANSWERED else None
    )
    ended_at = factory.LazyAttribute(
        lambda o: (
            None
            if o.phase in WAITING or o.phase in (CallPhase.CONNECTED, CallPhase.DIALING)
            else o.answered_at + timedelta(seconds=o.talk + o.hold)
            if o.answered_at
            else o.enqueued_at + timedelta(seconds=o.wait or 0)
        )
    )
    wrapup_ended_at = factory.LazyAttribute(
        lambda o: o.ended_at + timedelta(seconds=o.acw) if o.phase == CallPhase.COMPLETED else None
    )
    queue_wait_seconds = factory.LazyAttribute(lambda o: None if o.phase in WAITING else o.wait)
    talk_seconds = factory.LazyAttribute(lambda o: o.talk if o.phase in ANSWERED else None)
    hold_seconds = factory.SelfAttribute("hold")
    acw_seconds = factory.LazyAttribute(lambda o: o.acw if o.phase == CallPhase.COMPLETED else None)


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    department = factory.SelfAttribute("team.department")
    assignee = None
    subject = "요금 문의"
    status = TicketStatus.OPEN
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")


class SurveyFactory(DjangoModelFactory):
    """A post-call satisfaction survey, sent five minutes after the call ended."""

    class Meta:
        model = Survey

    call = factory.SubFactory(CallFactory)
    channel = SurveyChannel.SMS
    call_sid = factory.SelfAttribute("call.sid")
    agent = factory.SelfAttribute("call.agent")
    customer = factory.SelfAttribute("call.customer")
    phone = factory.SelfAttribute("call.from_number")
    sent_at = factory.LazyAttribute(lambda o: o.call.ended_at + timedelta(minutes=5))

    class Params:
        answered = factory.Trait(
            score=5, answered_at=factory.LazyAttribute(lambda o: o.sent_at + timedelta(minutes=2))
        )


class EvaluationFactory(DjangoModelFactory):
    """A QA evaluation of a call, in the call's month; `submitted` gives it a score."""

    class Meta:
        model = Evaluation

    call = factory.SubFactory(CallFactory, recorded=True, agent=factory.SubFactory(PersonFactory))
    scorecard = factory.LazyFunction(build_scorecard)
    agent = factory.SelfAttribute("call.agent")
    team = factory.SelfAttribute("call.team")
    department = factory.SelfAttribute("call.department")
    # The agent's team lead.
    evaluator = factory.SubFactory(
        PersonFactory, team_lead=True, team=factory.SelfAttribute("..call.team")
    )
    month = factory.LazyAttribute(lambda o: timezone.localdate(o.call.enqueued_at).replace(day=1))
    status = EvaluationStatus.ASSIGNED
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        submitted = factory.Trait(
            status=EvaluationStatus.SUBMITTED,
            score=90.0,
            compliance_score=100.0,
            submitted_at=factory.LazyFunction(timezone.now),
        )
