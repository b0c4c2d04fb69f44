"""The queue strip on the agent desktop: for each queue the agent is a member of, callers
waiting now, the longest current wait (ticking in the browser from its start) and today's
service level by the center's variant.

The desktop (agents, a lower floor) loads it with hx-get and polls it every few seconds
with ?v=<digest of the figures shown>: 204 while the agent's queues did not change, so an
unchanged poll costs a read of the live tallies (kpi.wallboard's figures, kpi.tallies: the
database's change mark, then the figures counted once per change for everyone) and no
render.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents.models import AgentState, Person
from kpi.tallies import Tally, member_tally_scopes, service_level_target, tallies_snapshots
from kpi.wallboard import sl_level, wait_level

# Polling period of the strip; issue 20 moves live pages to push.
POLL_SECONDS = 5


@dataclass(frozen=True)
class StripQueue:
    tally: Tally
    longest_wait: float | None
    wait_level: str
    sl_level: str

    @property
    def waiting_level(self) -> str:
        """As on the wallboard: none waiting · some, with an agent available · nobody free."""
        if not self.tally.waiting:
            return "ok"
        return "warn" if self.tally.agents.get(AgentState.AVAILABLE) else "bad"

    @property
    def sl_percent(self) -> str:
        value = self.tally.service_level
        return "–" if value is None else f"{value * 100:.0f}%"


def strip_for(person: Person) -> tuple[list[StripQueue], str]:
    """The person's queues with their live figures, and a digest of what the strip shows."""
    scopes = member_tally_scopes(person)
    if not scopes:
        return [], "none"
    target = service_level_target()
    now = timezone.now()
    rows = []
    for t in tallies_snapshots(scopes):
        wait = t.longest_wait_seconds(now)
        rows.append(
            StripQueue(
                tally=t,
                longest_wait=wait,
                wait_level=wait_level(wait, t.service_level_seconds),
                sl_level=sl_level(t.service_level, target),
            )
        )
    # The wait ticks in the browser from its start: its start is what changes the strip.
    shown = [
        (
            r.tally.id,
            r.tally.label,
            r.tally.waiting,
            r.waiting_level,
            r.tally.oldest_enqueued_at,
            r.tally.service_level_seconds,
            r.sl_percent,
            r.sl_level,
        )
        for r in rows
    ]
    digest = hashlib.sha1(json.dumps(shown, default=str).encode(), usedforsecurity=False)
    return rows, digest.hexdigest()[:16]


@login_required
@require_GET
def queue_strip(request: HttpRequest) -> HttpResponse:
    """The strip as a fragment; 204 while ?v= equals what it would show."""
    rows, version = strip_for(request.user)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(
        request,
        "kpi/_queue_strip.html",
        {
            "queues": rows,
            "version": version,
            "poll_seconds": POLL_SECONDS,
            "target": f"{service_level_target() * 100:.0f}%",
        },
    )
