"""No English left in the Korean UI: every page each role reaches from its home page (and
the admin, for the admin) is read as a person sees it (text, titles, placeholders, labels),
no text in it is English, and no select offers Django's "---------"."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import Resolver404, resolve

from agents.models import Role
from tests.factories import TicketFactory
from tickets.models import Disposition

# Words that stay as they are in a Korean center's UI: acronyms, product names, keys.
KEEP = set(
    "Sangdam KPI QA AHT ASA CSAT FCR SLA VIP CSV Excel XLSX IVR API SMS SID PII Twilio "
    "TOTP OTP Ctrl Enter Esc Tab Shift English".split()
)
# Never followed: leaving, side effects of a GET, files rather than pages.
SKIP = re.compile(r"logout|/i18n/|/export|\.csv|\.xlsx|/recording/|/audio/|/api/|/static/")
PAGES_PER_ROLE = 60


class VisibleText(HTMLParser):
    """The text a person reads (text nodes, titles, placeholders, labels, options) and the
    links and htmx fragments the page offers."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: set[str] = set()
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name in ("href", "hx-get"):
            if attrs.get(name):
                self.links.add(attrs[name])
        for name in ("title", "placeholder", "aria-label"):
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


# Text outside Sangdam's reach: django-axes's object titles are plain English f-strings, and
# Django's admin password form appends an English sentence it never marks for translation.
NOT_OURS = re.compile(
    r"(Access Log for|Failed access: user|Attempted Access:) .*"
    r"|If disabled, the current password for this user will be lost\."
)


def english_in(text: str, names: set[str]) -> bool:
    text = text.removeprefix("›").strip()  # the admin's breadcrumbs
    if text in names or re.search(r"[가-힣]", text) or NOT_OURS.fullmatch(text):
        return False
    if re.fullmatch(r"(?:[A-Z2-7]{4} ?){4,}", text):  # a two-factor key, in groups of four
        return False
    # A masked password hash: the first letters of its random salt, then asterisks.
    if re.fullmatch(r"\S{0,8}\*{4,}", text):
        return False
    if re.fullmatch(r"<unknown>( \(\d+\))?", text):  # django-axes: no user agent (a count)
        return False
    words = re.findall(r"[A-Za-z][A-Za-z'-]{2,}", text)
    return any(w not in KEEP and not re.fullmatch(r"[a-z]+\d+", w) for w in words)


def crawl(client, start: str, max_pages: int = PAGES_PER_ROLE) -> dict[str, list[str]]:
    """English texts found, by page, on the pages reachable from `start`."""
    # Data, not UI: people's names and logins, and the codes an admin gives dispositions.
    people = get_user_model().objects.values_list("display_name", "username")
    names = {name for pair in people for name in pair}
    names |= set(Disposition.objects.values_list("code", flat=True))
    found: dict[str, list[str]] = {}
    seen_routes: dict[str, int] = {}
    seen: set[str] = set()
    todo = deque([start])
    while todo and len(seen) < max_pages:
        url = todo.popleft()
        parts = urlsplit(url)
        if url in seen or SKIP.search(parts.path):
            continue
        try:
            match = resolve(parts.path)
        except Resolver404:
            continue
        # A few of each kind of page (every ticket page is the same template).
        route = match.route
        if seen_routes.get(route, 0) >= 2:
            continue
        seen_routes[route] = seen_routes.get(route, 0) + 1
        seen.add(url)
        headers = {"HX-Request": "true"} if "fragment=" in parts.query else {}
        response = client.get(url, headers=headers, follow=True)
        assert response.status_code < 500, url
        if "text/html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        page = VisibleText()
        page.feed(body)
        bad = [t for t in page.texts if english_in(t, names)]
        if "---------" in body:
            bad.append("---------")
        if bad:
            found[url] = sorted(set(bad))
        for link in sorted(page.links):  # the same pages on every run
            target = urlsplit(urljoin("http://testserver" + url, link))
            if target.netloc == "testserver":
                todo.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) > 3, f"only reached {sorted(seen)} from {start}"
    return found


@pytest.fixture
def pages_with_data(org):
    from agents.models import WorkingHours

    TicketFactory(team=org.team_a, assignee=org.agent1)
    WorkingHours.objects.create(person=org.agent1, weekday=0, starts="09:00", ends="18:00")
    return org


@pytest.mark.parametrize("persona", ["agent1", "lead1", "trainer", "manager", "director"])
def test_every_page_a_role_reaches_is_korean(client, pages_with_data, persona):
    client.force_login(getattr(pages_with_data, persona))
    assert crawl(client, "/") == {}


def test_the_admin_is_korean(client, org):
    admin = get_user_model().objects.create_superuser(
        "boss", password="x", display_name="관리자", role=Role.ADMIN, center=org.center
    )
    client.force_login(admin)
    found = crawl(client, "/admin/", max_pages=250)
    for path in ("/admin/kpi/dailystat/", "/admin/agents/target/", "/admin/agents/team/add/"):
        found.update(crawl(client, path))
    assert found == {}
