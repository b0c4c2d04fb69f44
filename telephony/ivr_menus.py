"""The voice menus (IVR) as data: finding a number's menu, opening hours and holidays,
and the menu tree for the read-only page. The TwiML the caller hears: telephony.ivr."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from agents.models import Center
from callcenter.phones import phone_normalize
from telephony.models import IvrAction, IvrMenu, IvrOption, OpeningHours
from telephony.selectors import number_route
from tickets.models import Holiday

# --- Finding menus -----------------------------------------------------------------------


def _menus():
    options = IvrOption.objects.select_related("queue", "submenu").order_by("digit")
    return IvrMenu.objects.select_related("center", "default_queue").prefetch_related(
        Prefetch("options", queryset=options), "opening_hours"
    )


def root_menu_for_number(number: str) -> IvrMenu | None:
    """The root menu answering this dialled number (대표번호), if any."""
    called = phone_normalize(number) or number
    menu_id, _queue = number_route(called)  # most numbers have no menu: cached, no query
    return menu_get(menu_id) if menu_id is not None else None


def menu_get(menu_id: int) -> IvrMenu | None:
    return _menus().filter(pk=menu_id).first()


# --- Opening hours -----------------------------------------------------------------------


def center_zone(center: Center) -> ZoneInfo:
    try:
        return ZoneInfo(center.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def is_open(menu: IvrMenu, at: datetime | None = None) -> bool:
    """Whether the menu's number is open at `at`, judged in the center's time zone.

    Hours are [opens, closes); `closes <= opens` spans midnight (22:00–02:00, and 00:00–00:00
    is the whole day). A holiday closes the shifts that *start* on it. A menu with no hours
    is always open except on holidays.
    """
    local = timezone.localtime(at or timezone.now(), center_zone(menu.center))
    today, now_t = local.date(), local.time()
    yesterday = today - timedelta(days=1)
    holidays = set(
        Holiday.objects.filter(center_id=menu.center_id, date__in=[today, yesterday]).values_list(
            "date", flat=True
        )
    )
    hours: list[OpeningHours] = list(menu.opening_hours.all())
    if not hours:
        return today not in holidays
    for h in hours:
        overnight = h.closes <= h.opens
        if h.weekday == today.weekday() and today not in holidays:
            if h.opens <= now_t and (overnight or now_t < h.closes):
                return True
        if overnight and h.weekday == yesterday.weekday() and yesterday not in holidays:
            if now_t < h.closes:
                return True
    return False


# --- The tree, for the read-only page ------------------------------------------------------


@dataclass
class MenuNode:
    menu: IvrMenu
    options: list[tuple[IvrOption, MenuNode | None]] = field(default_factory=list)
    loops_back: bool = False


def menu_tree(menu: IvrMenu, *, _seen: frozenset[int] = frozenset()) -> MenuNode:
    """The menu and its sub-menus, depth first; a sub-menu that leads back up is marked
    instead of followed."""
    if menu.pk in _seen:
        return MenuNode(menu=menu, loops_back=True)
    node = MenuNode(menu=menu)
    seen = _seen | {menu.pk}
    for option in menu.options.all():
        child = None
        if option.action == IvrAction.SUBMENU and option.submenu_id:
            submenu = menu_get(option.submenu_id)
            child = menu_tree(submenu, _seen=seen) if submenu else None
        node.options.append((option, child))
    return node


def root_menus_for(center_id: int | None):
    qs = _menus().exclude(phone_number=None).exclude(phone_number="")
    return qs.filter(center_id=center_id) if center_id else qs
