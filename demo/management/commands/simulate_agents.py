"""Simulated colleagues for the demo (simulated mode only): a few agents of a department
work the queue the way a person at the desktop would, through the same services: they go
Available, answer an offer after a few seconds, talk, hang up, wrap up with a disposition
and a note, and go again. With them the demo is a working floor rather than one agent
facing the whole queue, and the team board (they are taken from each department's first
team: lead1's, in the demo), wallboard and KPI move on their own.

On stop (Ctrl+C, SIGTERM from the process manager) they log off, so no call is offered to an agent
nobody plays."""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from kombu.exceptions import OperationalError as BrokerError

from agents.models import AgentState, AgentStatus, Department, Person, Role
from agents.services.states import agent_set_state
from callcenter.redis_health import REDIS_ERRORS
from telephony.models import Call, CallPhase
from telephony.selectors import pending_offer_for
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.wrapup import wrapup_submit

# The people a newcomer logs in as are never played by the simulator.
HUMAN_LOGINS = {"agent1", "agent2", "lead1", "trainer1", "manager1", "manager2", "director"}
NOTES = [
    "요금 문의 안내 완료",
    "주소 변경 처리",
    "명세서 재발송 요청 접수",
    "상품 안내 후 고객 검토 예정",
    "본인 확인 후 처리 완료",
]
# What one step may meet and the next step gets past: a race with the router or the caller
# (the offer expired, the caller hung up first), or Redis / the broker down (the change is
# committed; the message it sent after the commit is lost, and the periodic sweep or the
# next step makes up for it). Anything else is a bug and ends the command.
STEP_ERRORS = (PermissionDenied, ValidationError, DatabaseError, BrokerError, *REDIS_ERRORS)


def colleagues_in(departments, count: int) -> list[Person]:
    """Who the simulator plays: up to `count` agents per department who take its calls,
    from its first team first (lead1's, in the demo), never a demo login."""
    people: list[Person] = []
    for department in departments:
        people += list(
            Person.objects.filter(
                role=Role.AGENT,
                is_active=True,
                team__department=department,
                skills__queue__department=department,
            )
            .exclude(username__in=HUMAN_LOGINS)
            .distinct()
            .order_by("team__name", "username")[:count]
        )
    return people


@dataclass
class Colleague:
    person: Person
    due: dict[int, float] = field(default_factory=dict)  # offer/call id → when to act


class Command(BaseCommand):
    help = "Simulated colleagues who take the department's calls (simulated mode only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--department", action="append", help="department name (repeatable); default: all"
        )
        parser.add_argument("--count", type=int, default=3, help="colleagues per department")
        parser.add_argument(
            "--talk", type=float, nargs=2, default=(30, 120), metavar=("MIN", "MAX")
        )
        parser.add_argument(
            "--wrapup", type=float, nargs=2, default=(5, 25), metavar=("MIN", "MAX")
        )
        parser.add_argument("--answer", type=float, nargs=2, default=(2, 6), metavar=("MIN", "MAX"))
        parser.add_argument("--minutes", type=float, default=0, help="0 runs until stopped")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **opts):
        if settings.TELEPHONY_MODE != "simulated":
            raise CommandError("simulate_agents runs only with TELEPHONY_MODE=simulated")
        if opts["count"] < 0:
            raise CommandError("--count must be 0 or more")
        departments = list(Department.objects.order_by("name"))
        if opts["department"]:
            departments = [d for d in departments if d.name in opts["department"]]
            missing = set(opts["department"]) - {d.name for d in departments}
            if missing:
                raise CommandError(f"no department named {', '.join(sorted(missing))}")
        people = colleagues_in(departments, opts["count"])
        stop_at = time.monotonic() + opts["minutes"] * 60 if opts["minutes"] else None
        self._stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        if not people:
            self.stdout.write("simulate_agents: no agents to play; nothing to do")
            if stop_at is None:
                # Until stopped, as asked: `make run` runs this beside the server under a
                # process manager (supervisord) that starts a process that ends again and
                # gives up after a few quick exits, so SIM_COLLEAGUES=0 idles instead.
                self._idle_until_stopped()
            return
        self.rng = random.Random(opts["seed"])  # noqa: S311 - demo timings, not secrets
        self.opts = opts
        colleagues = [Colleague(p) for p in people]
        self.stdout.write(
            f"simulate_agents: {', '.join(p.display_name for p in people)} take calls"
        )
        try:
            while not self._stopping and (stop_at is None or time.monotonic() < stop_at):
                for colleague in colleagues:
                    try:
                        self._step(colleague)
                    except STEP_ERRORS as exc:
                        # The next step sees the new state.
                        self.stderr.write(f"simulate_agents: {colleague.person}: {exc}")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for colleague in colleagues:
                try:
                    agent_set_state(person=colleague.person, state=AgentState.OFFLINE)
                except STEP_ERRORS:
                    pass

    def _stop(self, *_args) -> None:
        self._stopping = True

    def _idle_until_stopped(self) -> None:
        try:
            while not self._stopping:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass

    def _after(self, colleague: Colleague, key: int, bounds) -> bool:
        """True once the wait drawn for `key` (from `bounds` seconds) has passed."""
        now = time.monotonic()
        due = colleague.due.setdefault(key, now + self.rng.uniform(*bounds))
        if now < due:
            return False
        del colleague.due[key]
        return True

    def _step(self, colleague: Colleague) -> None:
        person = colleague.person
        state = AgentStatus.objects.filter(person=person).values_list("state", flat=True).first()
        if state in (None, AgentState.OFFLINE, AgentState.NOT_RESPONDING, AgentState.NOT_READY):
            agent_set_state(person=person, state=AgentState.AVAILABLE)
        elif state == AgentState.RESERVED:
            offer = pending_offer_for(person)
            if offer is not None and self._after(colleague, -offer.pk, self.opts["answer"]):
                offer_accept(agent=person, offer_id=offer.pk)
        elif state == AgentState.ON_CALL:
            call = Call.objects.filter(agent=person, phase=CallPhase.CONNECTED).first()
            if call is not None and self._after(colleague, call.pk, self.opts["talk"]):
                call_hangup(agent=person, call_id=call.pk)
        elif state == AgentState.WRAP_UP:
            call = (
                Call.objects.filter(agent=person, phase=CallPhase.WRAP_UP)
                .select_related("department")
                .first()
            )
            if call is not None and self._after(colleague, call.pk, self.opts["wrapup"]):
                disposition = self.rng.choice(list(call.department.dispositions.all()))
                wrapup_submit(
                    agent=person,
                    call_id=call.pk,
                    disposition_id=disposition.pk,
                    note=self.rng.choice(NOTES),
                    subject=disposition.label,
                    resolve=disposition.resolves,
                )
