"""The wallboard (현황판): live tallies on a TV, per queue and for the center.

Live by polling: the page's tile grid asks for `/kpi/wallboard/tiles/?v=<version>` every
500 ms; the answer is 204 (nothing to swap) while the figures are unchanged (`v` is their
digest), and the new grid otherwise. An event is on screen within one polling period plus one render
(bench/wallboard_latency.py measures it). Polling rather than server-sent events: it works
the same under `runserver` and gunicorn's sync workers (a held-open SSE stream would pin one
worker per TV), and an unchanged poll costs one read of the database's change mark
(kpi.tallies: the figures themselves are counted once per change, for every screen).

Colour thresholds (green / amber / red), also shown in the page's legend:
- service level today vs the target (SERVICE_LEVEL_TARGET, 80 %): ≥ target · ≥ target − 10
  points · below.
- longest current wait vs the queue's service-level threshold T: < T/2 · < T · ≥ T (the
  caller already misses the service level). The page ticks it every second.
- abandon rate today (short abandons removed): < 5 % · < 10 % · ≥ 10 %.
- callers waiting: none · some, with an agent available · some, and nobody available.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from agents.models import AgentState
from callcenter.inputs import parse_id
from kpi.tallies import (
    Tally,
    service_level_target,
    tallies_digest,
    tallies_snapshots,
    tally_scopes_for,
)

SL_AMBER_MARGIN = 0.10
ABANDON_AMBER = 0.05
ABANDON_RED = 0.10

# Bar order and colours (CSS classes .st-<state>): who can take a call first.
STATE_ORDER = [
    (AgentState.AVAILABLE, _("Available")),
    (AgentState.RESERVED, _("Reserved")),
    (AgentState.ON_CALL, _("On call")),
    (AgentState.WRAP_UP, _("Wrap-up")),
    (AgentState.NOT_READY, _("Not ready")),
    (AgentState.NOT_RESPONDING, _("Not responding")),
    (AgentState.OFFLINE, _("Offline")),
]


def sl_level(value: float | None, target: float) -> str:
    if value is None:
        return "none"
    if value >= target:
        return "ok"
    return "warn" if value >= target - SL_AMBER_MARGIN else "bad"


def wait_level(seconds: float | None, threshold: int) -> str:
    if seconds is None:
        return "none"
    if seconds < threshold / 2:
        return "ok"
    return "warn" if seconds < threshold else "bad"


def abandon_level(rate: float | None) -> str:
    if rate is None:
        return "none"
    if rate < ABANDON_AMBER:
        return "ok"
    return "warn" if rate < ABANDON_RED else "bad"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@dataclass
class Tile:
    tally: Tally
    longest_wait: float | None
    sl_level: str
    wait_level: str
    abandon_level: str
    bar: list[dict]
    staffed: int

    @property
    def sl_text(self) -> str:
        return _pct(self.tally.service_level)

    @property
    def abandon_text(self) -> str:
        return _pct(self.tally.abandon_rate)

    @property
    def oldest_ms(self) -> int | None:
        at = self.tally.oldest_enqueued_at
        return int(at.timestamp() * 1000) if at else None


def _tile(tally: Tally, target: float, now) -> Tile:
    wait = tally.longest_wait_seconds(now)
    total = sum(tally.agents.values())
    bar = [
        {
            "state": state,
            "label": label,
            "count": tally.agents.get(state, 0),
            "pct": (100 * tally.agents.get(state, 0) / total) if total else 0,
        }
        for state, label in STATE_ORDER
    ]
    return Tile(
        tally=tally,
        longest_wait=wait,
        sl_level=sl_level(tally.service_level, target),
        wait_level=wait_level(wait, tally.service_level_seconds),
        abandon_level=abandon_level(tally.abandon_rate),
        bar=bar,
        staffed=tally.agents_logged_in,
    )


def _queue_param(request: HttpRequest) -> int | None | HttpResponse:
    raw = request.GET.get("queue", "")
    if not raw:
        return None
    queue_id = parse_id(raw)
    if queue_id is None:
        return HttpResponseBadRequest("queue must be a queue id")
    return queue_id


def _context(request: HttpRequest, tallies: list[Tally]) -> dict:
    target = service_level_target()
    now = timezone.now()
    tiles = [_tile(t, target, now) for t in tallies]
    return {
        "tiles": tiles,
        "center": next((t for t in tiles if t.tally.kind == "center"), None),
        "queues": [t for t in tiles if t.tally.kind == "queue"],
        "version": tallies_digest(tallies),
        "now_ms": int(now.timestamp() * 1000),
        "now": now,
        "target": _pct(target),
        "target_amber": _pct(max(0.0, target - SL_AMBER_MARGIN)),
        "abandon_amber": _pct(ABANDON_AMBER),
        "abandon_red": _pct(ABANDON_RED),
        "queue_param": request.GET.get("queue", ""),
        "states": STATE_ORDER,
    }


@login_required
@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    """The TV page. ?queue=<id> shows one queue; otherwise everything the viewer may see."""
    queue_id = _queue_param(request)
    if isinstance(queue_id, HttpResponse):
        return queue_id
    tallies = tallies_snapshots(tally_scopes_for(request.user, queue_id=queue_id))
    return render(request, "kpi/wallboard.html", _context(request, tallies))


@login_required
@require_GET
def wallboard_tiles(request: HttpRequest) -> HttpResponse:
    """The polled partial: 204 while the digest of the figures equals ?v=."""
    queue_id = _queue_param(request)
    if isinstance(queue_id, HttpResponse):
        return queue_id
    tallies = tallies_snapshots(tally_scopes_for(request.user, queue_id=queue_id))
    if request.GET.get("v") == tallies_digest(tallies):
        return HttpResponse(status=204)
    return render(request, "kpi/wallboard.html#tiles", _context(request, tallies))
