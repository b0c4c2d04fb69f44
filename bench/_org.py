"""A minimal org for a bench: one center, one department with its number, one queue."""

from __future__ import annotations

from agents.models import Center, Department, DepartmentKind
from telephony.models import Queue


def bench_department(
    *, name: str, phone_number: str, max_size: int = 10**9
) -> tuple[Department, Queue]:
    """max_size is out of reach by default (not 0 = unlimited) so the full-queue check still
    runs on every call but never turns the bench's callers away."""
    center = Center.objects.create(name=f"bench {name}")
    department = Department.objects.create(
        center=center, name=name, kind=DepartmentKind.GENERAL, phone_number=phone_number
    )
    queue = Queue.objects.create(department=department, name=f"{name} queue", max_size=max_size)
    return department, queue
