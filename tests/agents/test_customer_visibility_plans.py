"""Customers are seen through the work about them (tickets.selectors.customer_seen_by): the
desktop asks about the caller for every call whose timeline it shows, and every customer
search asks too.

As one condition, an agent's rule for calls, `agent_id = me OR an offer of the call went to
me`, across a LEFT JOIN to the offers had no index path: every call with a customer was read
with its offers (2 s on SQLite, 0.4 s on PostgreSQL at 500,000 calls). One customer's check
seeks that customer's own tickets and calls (an EXISTS each). A search first finds the
customers that match (a UNION of the name's scan and the numbers' indexes) and asks the
check of those only: reading all of a director's visible work first cost 370 ms a search at
100,000 customers and 700,000 tickets and calls on SQLite. The rules are still those of
tickets_visible_to and calls_visible_to, which the last tests compare with, role by role."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Person, Role, Team
from telephony.models import Call, CallPhase, Offer, OfferStatus
from telephony.selectors import calls_visible_to
from tests.factories import PersonFactory
from tests.plans import analyze, explain
from tickets.models import Customer, Ticket
from tickets.selectors import (
    customer_get_for,
    customer_search_for,
    customer_seen_by,
    tickets_visible_to,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = 2000
TICKETS = 3000
CALLS = 5000
EXTRA_TEAMS = 20
EXTRA_AGENTS = 80
WORK_TABLES = {"telephony_call", "telephony_offer", "tickets_ticket", "tickets_customer"}
WAYS = ["team", "assigned", "call", "offer", "elsewhere"]


@pytest.fixture
def work(org):
    """Customers with tickets, calls and offers in every team; and one customer for each way
    agent1 sees a customer (a team A ticket, a team C ticket assigned to them, their call, a
    team B call offered to them), and one they do not (team C's)."""
    rnd = random.Random(5)
    now = timezone.now()
    Customer.objects.bulk_create(
        Customer(name=f"고객{i:04d}", phone=f"+8210{50000000 + i:08d}") for i in range(CUSTOMERS)
    )
    customers = list(Customer.objects.values_list("id", flat=True))
    # More teams and agents, so that one agent's or one team's work is a small part of it
    # all, as in a center (PostgreSQL's planner weighs it).
    teams = Team.objects.bulk_create(
        Team(department=org.general, name=f"일반 {i}") for i in range(EXTRA_TEAMS)
    )
    agents = [org.agent1, org.agent2, org.agent3, org.agent4]
    agents += Person.objects.bulk_create(
        Person(username=f"extra{i}", role=Role.AGENT, center=org.center, team=teams[i % len(teams)])
        for i in range(EXTRA_AGENTS)
    )
    department_of = {team.pk: org.general for team in [org.team_a, org.team_b, *teams]}
    department_of[org.team_c.pk] = org.signup

    def ticket(customer_id, team_id, assignee=None):
        department = department_of[team_id] if team_id else org.general
        return Ticket(
            customer_id=customer_id,
            department=department,
            team_id=team_id,
            assignee=assignee,
            subject="s",
            created_at=now,
            updated_at=now,
        )

    def call(n, customer_id, agent, team_id):
        department = department_of[team_id]
        return Call(
            sid=f"CA{n:032d}",
            from_number="+821000000000",
            to_number=department.phone_number,
            department=department,
            queue=org.q_general if department == org.general else org.q_signup,
            customer_id=customer_id,
            agent=agent,
            team_id=team_id if agent else None,
            phase=CallPhase.COMPLETED,
            enqueued_at=now - timedelta(minutes=n),
        )

    tickets = []
    for _ in range(TICKETS):
        agent = rnd.choice(agents)
        assignee = agent if rnd.random() < 0.7 else None
        tickets.append(ticket(rnd.choice(customers), agent.team_id, assignee))
    tickets.append(ticket(rnd.choice(customers), None))  # filed under no team
    Ticket.objects.bulk_create(tickets)
    calls = []
    for n in range(CALLS):
        agent = rnd.choice(agents) if rnd.random() < 0.9 else None
        team_id = agent.team_id if agent else rnd.choice(list(department_of))
        calls.append(call(n, rnd.choice(customers) if rnd.random() < 0.9 else None, agent, team_id))
    Call.objects.bulk_create(calls)
    offers = []
    for pk, agent_id, at in Call.objects.filter(agent__isnull=False).values_list(
        "pk", "agent_id", "enqueued_at"
    ):
        if rnd.random() < 0.1:  # rang for a colleague first, unanswered
            other = rnd.choice([a for a in agents if a.pk != agent_id])
            offers.append(
                Offer(
                    call_id=pk,
                    agent=other,
                    status=OfferStatus.EXPIRED,
                    offered_at=at,
                    expires_at=at,
                )
            )
        offers.append(
            Offer(
                call_id=pk,
                agent_id=agent_id,
                status=OfferStatus.ACCEPTED,
                offered_at=at,
                expires_at=at,
            )
        )
    Offer.objects.bulk_create(offers)

    only = {
        way: Customer.objects.create(name=f"한길 {way}", phone=f"+82107000000{i}")
        for i, way in enumerate(WAYS)
    }
    Ticket.objects.bulk_create(
        [
            ticket(only["team"].pk, org.team_a.pk),
            ticket(only["assigned"].pk, org.team_c.pk, org.agent1),
            ticket(only["elsewhere"].pk, org.team_c.pk, org.agent4),
        ]
    )
    Call.objects.bulk_create(
        [
            call(CALLS, only["call"].pk, org.agent1, org.team_a.pk),
            call(CALLS + 1, only["offer"].pk, org.agent3, org.team_b.pk),
        ]
    )
    offered = Call.objects.get(customer=only["offer"])
    Offer.objects.create(
        call=offered, agent=org.agent1, status=OfferStatus.EXPIRED, offered_at=now, expires_at=now
    )
    analyze("tickets_customer", "tickets_ticket", "telephony_call", "telephony_offer")
    return only


def _tables_read_whole(sql: str, plan: str) -> set[str]:
    """The tables of WORK_TABLES the plan reads from end to end. On SQLite that is a SCAN,
    or a SEARCH on nothing but `column > ?` (IS NOT NULL through a partial index: every
    call with a customer). A subquery's alias, such as U0, may name a different table in
    each subquery: any of them counts."""
    if connection.vendor == "postgresql":
        return {table for table in WORK_TABLES if f"Seq Scan on {table} " in f"{plan} "}
    tables_of: dict[str, set[str]] = {}
    for table, alias in re.findall(r'"(\w+)"(?: (U\d+))?', sql):
        tables_of.setdefault(alias or table, set()).add(table)
    whole = r"^(?:SCAN (\w+)|SEARCH (\w+) USING .*\(\w+>\?\))"
    scanned = set()
    for names in re.findall(whole, plan, flags=re.MULTILINE):
        name = "".join(names)
        scanned |= tables_of.get(name, {name}) & WORK_TABLES
    return scanned


def _only_query(ctx) -> str:
    (query,) = ctx.captured_queries
    return query["sql"]


@pytest.mark.parametrize("persona", ["agent1", "lead1", "manager", "director"])
def test_one_customers_check_seeks_that_customers_own_tickets_and_calls(org, work, persona):
    person = getattr(org, persona)
    for customer in [work["call"], work["elsewhere"]]:
        with CaptureQueriesContext(connection) as ctx:
            try:
                customer_get_for(person, customer.pk)
            except Http404:
                pass
        sql = _only_query(ctx)
        plan = explain(sql)
        assert not _tables_read_whole(sql, plan), plan
        if connection.vendor == "sqlite":
            # no list of all the person's work built first, to look the customer up in
            assert "LIST SUBQUERY" not in plan, plan
        else:
            assert "hashed SubPlan" not in plan, plan


@pytest.mark.parametrize("persona", ["agent1", "lead1", "manager", "director"])
@pytest.mark.parametrize("q", ["한길", "+821012345678"])
def test_a_search_checks_the_customers_that_match_not_the_persons_work(org, work, persona, q):
    """What remains is the customers' name scan (a LIKE '%…%' has no index); tickets,
    calls and offers are only sought by a candidate customer (or its calls)."""
    with CaptureQueriesContext(connection) as ctx:
        list(customer_search_for(getattr(org, persona), q))
    sql = _only_query(ctx)
    plan = explain(sql)
    if connection.vendor == "postgresql":
        assert _tables_read_whole(sql, plan) <= {"tickets_customer"}, plan
        return
    # SQLite: the candidates' ids are a list (the UNION, of customer tables only); in the
    # correlated EXISTS after it nothing is scanned: the candidate's tickets and calls are
    # sought by customer, their offers by call, the chart's rows by key.
    candidates = sql.partition("EXISTS")[0].split(" IN (", 1)[1]
    assert set(re.findall(r'"(\w+)"\.', candidates)) <= {
        "tickets_customer",
        "tickets_customerphone",
    }, sql
    lines = plan.splitlines()
    first_check = next(i for i, line in enumerate(lines) if line.startswith("CORRELATED"))
    checks = lines[first_check:]
    assert not [line for line in checks if line.startswith("SCAN")], plan
    assert not [line for line in checks if ">?" in line or "<?" in line], plan
    blocks = "\n".join(checks).split("CORRELATED")[1:]
    assert blocks and all("(customer_id=?)" in block for block in blocks), plan


# Which of the customers each persona sees: those of agent1's team A ticket ("team"), of
# the team C ticket assigned to agent1 ("assigned"), of agent1's own team A call ("call"),
# of the team B call offered to agent1 that agent3 took ("offer"), and of team C's ticket
# of agent4 ("elsewhere").
SEES = {
    "agent1": {"team", "assigned", "call", "offer"},
    "agent2": {"team"},
    "agent3": {"offer"},
    "agent4": {"assigned", "elsewhere"},
    "lead1": {"team", "call"},
    "lead2": {"offer"},
    "lead3": {"assigned", "elsewhere"},
    "manager": {"team", "call", "offer"},
    "director": set(WAYS),
    "trainer": set(WAYS),
}


@pytest.mark.parametrize("persona", list(SEES))
def test_each_role_sees_the_customers_of_the_work_it_may_see(org, work, persona):
    person = getattr(org, persona)
    for way, customer in work.items():
        if way in SEES[persona]:
            assert customer_get_for(person, customer.pk) == customer, way
        else:
            with pytest.raises(Http404):
                customer_get_for(person, customer.pk)
    found = {c.name.removeprefix("한길 ") for c in customer_search_for(person, "한길")}
    assert found == SEES[persona]


def test_customers_are_those_of_the_tickets_and_calls_each_person_may_see(org, work):
    """The rule as its docstring says it, for every role (and staff, and a superuser agent),
    over every customer on file."""
    people = [getattr(org, persona) for persona in SEES]
    people += [
        PersonFactory(username="staff1", role=Role.ADMIN, center=org.center),
        PersonFactory(username="root", team=org.team_a, is_superuser=True),
    ]
    everyone = set(Customer.objects.values_list("pk", flat=True))
    for person in people:
        expected = set(tickets_visible_to(person).values_list("customer_id", flat=True)) | set(
            calls_visible_to(person)
            .filter(customer__isnull=False)
            .values_list("customer_id", flat=True)
        )
        seen = set(Customer.objects.filter(customer_seen_by(person)).values_list("pk", flat=True))
        assert seen == expected, person.username
        for pk in random.Random(person.pk).sample(sorted(everyone), 100):
            try:
                got = customer_get_for(person, pk).pk
            except Http404:
                got = None
            assert got == (pk if pk in expected else None), (person.username, pk)
