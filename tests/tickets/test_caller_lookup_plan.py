"""A caller is looked up on every incoming call: by the phone index, however many customers
are on file.

Every lookup skips merged records (merged_into IS NULL), which is nearly every customer.
With a full index on merged_into, SQLite's planner (no statistics unless ANALYZE has run)
took that condition for a selective one and walked the index: every customer, for every
call (11 ms a call with 50,000 customers). The index now covers merged records only."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.plans import analyze
from tickets.models import Customer, CustomerPhone
from tickets.selectors import (
    _caller_match_query,
    _customers,
    _with_main_phone,
    _with_other_phone,
    caller_match,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = 3000


def _plan(qs) -> str:
    return qs.explain()


def _customer_table_lines(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if "tickets_customer " in f"{line} "]


@pytest.fixture
def customers(org):
    Customer.objects.bulk_create(
        Customer(phone=f"+8210{60000000 + i:08d}", name=f"c{i}") for i in range(CUSTOMERS)
    )
    first = Customer.objects.order_by("id").first()
    Customer.objects.filter(pk=first.pk + 1).update(merged_into=first)
    CustomerPhone.objects.create(customer=first, number="+821077770000")
    analyze("tickets_customer", "tickets_customerphone")
    return first


@pytest.mark.parametrize("phone", ["+821060000010", "+821077770000", "+821099999999"])
def test_caller_lookups_seek_the_phone_not_every_customer(customers, phone):
    plans = [
        _plan(_caller_match_query(phone)),
        _plan(_with_main_phone(_customers(), phone)),
        _plan(_with_other_phone(_customers(), phone)),
    ]
    for plan in plans:
        if connection.vendor == "sqlite":
            for line in _customer_table_lines(plan):
                assert "merged_into" not in line, plan
                assert "SCAN tickets_customer" not in line, plan
            assert "tickets_customer_phone" in plan or "INTEGER PRIMARY KEY" in plan, plan
        else:
            assert "Seq Scan on tickets_customer " not in f"{plan} ", plan
    # and the answers are still right: the main number, a further number, nobody
    match = caller_match(phone)
    expected = {"+821060000010": "c10", "+821077770000": customers.name}.get(phone)
    assert (Customer.objects.get(pk=match.customer_id).name if match else None) == expected


def test_merged_records_are_still_found_by_the_customer_they_went_into(customers):
    assert list(customers.merged_from.values_list("name", flat=True)) == ["c1"]
    plan = _plan(Customer.objects.filter(merged_into=customers))
    if connection.vendor == "sqlite":
        assert "customer_merged_into" in plan, plan
