"""Caller traffic for simulated mode: the simulator places calls (signed webhooks to
Sangdam's own URLs), callers lose patience in the queue, and connected callers hang up."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agents.models import Department
from callcenter.pii import pii_redact
from telephony import simulator
from telephony.models import Call, CallPhase, IvrMenu
from telephony.simulator import HttpTransport, Simulator, new_call_sid, proxy_headers
from tickets.models import Customer


@dataclass
class Caller:
    sid: str
    placed_at: float
    patience: float
    talk: float


class Command(BaseCommand):
    help = (
        "Drive simulated caller traffic: --rate calls per minute for --minutes (0 = until stopped)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rate", type=float, default=1.0, help="calls per minute (0: none, only wait)"
        )
        parser.add_argument("--minutes", type=float, default=1.0, help="0 runs until stopped")
        parser.add_argument("--department", help="department name; default: any")
        parser.add_argument(
            "--ivr",
            action="store_true",
            help="dial the numbers with a voice menu (대표번호); callers press a department's key",
        )
        parser.add_argument(
            "--patience", type=float, default=180, help="mean seconds a caller waits"
        )
        parser.add_argument(
            "--talk", type=float, default=600, help="seconds before a connected caller hangs up"
        )
        parser.add_argument(
            "--wait-for-server", type=float, default=60, help="seconds to wait for the web server"
        )

    def handle(self, *args, **opts):
        if settings.TELEPHONY_MODE != "simulated":
            raise CommandError("simulate_calls runs only with TELEPHONY_MODE=simulated")
        if opts["rate"] < 0:
            raise CommandError("--rate must be 0 or more")
        if opts["rate"] == 0:
            self.stdout.write("simulate_calls: rate 0, no calls to place")
            if not opts["minutes"]:
                # Until stopped, as asked: `make run` runs this under a process manager
                # (supervisord) that starts a process that ends again and gives up after a
                # few quick exits, so SIM_RATE=0 idles instead.
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
            return
        departments = Department.objects.all()
        if opts["department"]:
            departments = departments.filter(name=opts["department"])
            if not departments.exists():
                names = ", ".join(
                    Department.objects.order_by("name").values_list("name", flat=True)
                )
                raise CommandError(
                    f"no department named {opts['department']}; there are: {names or 'none'}"
                )
        numbers = list(departments.values_list("phone_number", flat=True))
        if opts["ivr"]:
            numbers = list(
                IvrMenu.objects.exclude(phone_number=None).values_list("phone_number", flat=True)
            )
        if not numbers:
            raise CommandError("no department to call; run seed_demo first")
        phones = list(Customer.objects.values_list("phone", flat=True)[:500]) or ["+821012345678"]
        sim = Simulator.default()
        self._wait_for_server(opts["wait_for_server"])
        rng = self.rng = random.Random()
        deadline = time.monotonic() + opts["minutes"] * 60 if opts["minutes"] else None
        next_arrival = time.monotonic()
        callers: dict[str, Caller] = {}
        placed = 0
        self.stdout.write(f"simulating {opts['rate']}/min to {len(numbers)} number(s)…")
        while deadline is None or time.monotonic() < deadline or callers:
            now = time.monotonic()
            if now >= next_arrival and (deadline is None or now < deadline):
                sid = new_call_sid()
                # Unknown numbers ~15 % of the time: first-time callers.
                phone = (
                    rng.choice(phones)
                    if rng.random() > 0.15
                    else f"+8210{rng.randint(20000000, 99999999)}"
                )
                try:
                    sim.place_call(from_number=phone, to_number=rng.choice(numbers), call_sid=sid)
                except OSError as exc:
                    self.stderr.write(f"could not reach Sangdam: {exc}")
                else:
                    callers[sid] = Caller(
                        sid, now, rng.expovariate(1 / opts["patience"]) + 10, opts["talk"]
                    )
                    placed += 1
                    self.stdout.write(
                        f"{timezone.localtime():%H:%M:%S} call {placed} placed from "
                        f"{pii_redact(phone, kinds=('phone',))}"
                    )
                next_arrival = now + rng.expovariate(opts["rate"] / 60)
            self._tick_callers(sim, callers)
            time.sleep(0.5)
        self.stdout.write(self.style.SUCCESS(f"done: {placed} calls placed"))

    def _tick_callers(self, sim: Simulator, callers: dict[str, Caller]) -> None:
        now = time.monotonic()
        phases = dict(Call.objects.filter(sid__in=list(callers)).values_list("sid", "phase"))
        for sid, caller in list(callers.items()):
            phase = phases.get(sid)
            connected_at = sim.connected_at(sid)
            if phase in (
                CallPhase.WRAP_UP,
                CallPhase.COMPLETED,
                CallPhase.ABANDONED,
                CallPhase.VOICEMAIL,
                CallPhase.FAILED,
            ):
                del callers[sid]  # Sangdam or the agent ended it
            elif connected_at is None and now - caller.placed_at > caller.patience:
                # Out of patience: some ask to be called back (they keep their place),
                # the rest hang up (an abandon).
                if not (self.rng.random() < 0.4 and sim.caller_asks_for_callback(call_sid=sid)):
                    sim.caller_hangs_up(call_sid=sid)
                del callers[sid]
            elif connected_at and (timezone.now() - connected_at).total_seconds() > caller.talk:
                sim.caller_hangs_up(call_sid=sid)
                del callers[sid]
            elif phase is None and now - caller.placed_at > 30:
                del callers[sid]  # Sangdam never took it (unknown number)

    def _wait_for_server(self, seconds: float) -> None:
        if simulator.transport_override is not None:  # read now: tests plug theirs in
            return
        url = HttpTransport().target_base + "/login/"
        end = time.monotonic() + seconds
        while True:
            try:
                requests.get(url, timeout=2, headers=proxy_headers())
                return
            except requests.RequestException:
                if time.monotonic() > end:
                    raise CommandError(f"Sangdam is not answering at {url}") from None
                time.sleep(1)
