"""Never a 5xx on bad input (issue 17, item 8): a property test over every Twilio webhook
and every page.

The URLs come from walking the URL resolver, so a new view is covered without touching this
file; its path arguments come from PATH_VALUES (a new `<int:name>` fails here until it is
added). Excluded: /admin/ (Django's own), /api/ (schemathesis covers it, `make api-fuzz`),
the schema and static redirects.

- Webhooks get correctly SIGNED form bodies, so garbage reaches the forms and services.
- Pages are asked with GET (filters) and POST (forms) by each role that may use them. The
  keys a view reads are found by a probe request that records every key looked up in
  request.GET / request.POST, so a new form field is fuzzed too.
- Values are rich in what broke before: numbers past 2^31 and 2^63, negatives, non-ASCII
  digits (², ①, ٣), NUL, 5,000-character strings, empty, repeated keys, wrong types,
  months and dates like 0000-01 and 9999-99.

The oracle, per request: no 5xx (an exception is a failure too), and a 4xx changes nothing
(a fingerprint of every table of Sangdam's apps before and after: row count, largest id,
latest value of every date-time column such as updated_at, in one query). Each
example is rolled back, so each starts from the same rows.

BAD_INPUT_WEBHOOK_EXAMPLES (default 20) and BAD_INPUT_EXAMPLES (default 3 per page and
method) set the examples per URL; derandomized, so CI and a laptop ask the same corpus. BAD_INPUT_TALLY=<file> records every answer as a JSON
line instead of asserting (to count 5xx before and after a fix on one corpus).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from contextlib import contextmanager, nullcontext, suppress
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.db import transaction
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.models import Role
from callcenter.dispatch import suppress_dispatch
from tests.conftest import GENERAL_NUMBER, make_available, signature
from tests.telephony.reliability_support import route_of
from tests.telephony.test_reliability_garbage import QUERY, VALID, sid

EXAMPLES = int(os.environ.get("BAD_INPUT_EXAMPLES", "3"))
WEBHOOK_EXAMPLES = int(os.environ.get("BAD_INPUT_WEBHOOK_EXAMPLES", "20"))
TALLY = os.environ.get("BAD_INPUT_TALLY", "")
SKIP_PREFIXES = ("/admin/", "/api/", "/favicon.ico", "/static/")


# --- The URLs ------------------------------------------------------------------------------


def _walk(patterns, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route_of(entry))
        elif isinstance(entry, URLPattern):
            yield prefix + route_of(entry), entry


def routes() -> dict[str, URLPattern]:
    found = {}
    for path, entry in _walk(get_resolver().url_patterns, "/"):
        if path.startswith(SKIP_PREFIXES) or "(?P<" in path:
            continue
        found[path] = entry
    return found


ROUTES = routes()
WEBHOOKS = sorted(p for p, e in ROUTES.items() if getattr(e.callback, "twilio_webhook", False))
PAGES = sorted(p for p, e in ROUTES.items() if not getattr(e.callback, "twilio_webhook", False))

# Path arguments: each <int:name> gets a real row of the `world` fixture (a few by URL).
PATH_VALUES = {
    "ticket_id": lambda w: w.ticket.pk,
    "customer_id": lambda w: w.ticket.customer_id,
    "call_id": lambda w: w.call.pk,
    "offer_id": lambda w: w.offer.pk,
    "voicemail_id": lambda w: w.voicemail.pk,
    "view_id": lambda w: w.saved_view.pk,
    "task_id": lambda w: w.followup.pk,
    "person_id": lambda w: w.org.agent1.pk,
    "request_id": lambda w: w.approval.pk,
    "run_id": lambda w: w.run.pk,
    "evaluation_id": lambda w: w.evaluation.pk,
    "dispute_id": lambda w: w.dispute.pk,
    "plan_id": lambda w: w.plan.pk,
    "session_id": lambda w: w.session.pk,
    "scorecard_id": lambda w: w.scorecard.pk,
}
PATH_VALUES_BY_URL = {
    "/qa/coaching/tasks/<int:task_id>/": {"task_id": lambda w: w.coaching_task.pk},
    "/kpi/evaluations/<int:sheet_id>/": {"sheet_id": lambda w: w.sheet.pk},
}


def concrete(path: str, world) -> str:
    def value(match: re.Match) -> str:
        name = match.group(2)
        by_url = PATH_VALUES_BY_URL.get(path, {})
        assert name in by_url or name in PATH_VALUES, f"add {name!r} to PATH_VALUES for {path}"
        return str((by_url.get(name) or PATH_VALUES[name])(world))

    return re.sub(r"<(\w+):(\w+)>", value, path)


# --- The values ----------------------------------------------------------------------------

BIG = st.sampled_from(
    [2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**31) - 1, -(2**63)]
).map(str)
INTS = st.one_of(BIG, st.integers(-(2**70), 2**70).map(str), st.integers(-2, 60).map(str))
ODD_DIGITS = st.sampled_from(["²", "①", "٣", "۳", "३", "２７１", "𝟗", "½", "Ⅻ", "〇", "1²"])
NUL = st.sampled_from(["\x00", "a\x00b", "1\x00", "\x00" * 3])
LONG = st.sampled_from(["x" * 5000, "9" * 400, "가" * 3000, "1" * 20])
DATES = st.sampled_from(
    [
        "0000-01",
        "9999-99",
        "2026-13",
        "2026-00",
        "0000-00-00",
        "0001-01-01",
        "9999-12-31",
        "10000-01",
        "2026-02-30",
        "-1-01",
        "2026-12",
        "2026-12-01",
        "2026-12-01T25:61",
        "2026-12-01 10:00",
        "99:99",
        "1e9",
    ]
)
WRONG = st.sampled_from(
    ["true", "null", "None", "[]", "{}", "nan", "inf", "-inf", "1e309", "1.5", "0x10", " 7 ", "on"]
)
# NUL is drawn on its own (nul_somewhere): RejectNulMiddleware refuses any request holding one,
# so NUL in every body would keep the fuzz from ever reaching the views.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


# What answered 500 before, drawn for about half of all values.
KNOWN_TROUBLE = st.sampled_from(
    [str(2**31), str(2**63), "-1", "²", "①", "٣", "0000-01", "9999-99", "nan", "", "x" * 5000]
)


def values(ids: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        KNOWN_TROUBLE,
        INTS,
        ODD_DIGITS,
        LONG,
        DATES,
        WRONG,
        TEXT,
        st.sampled_from(ids),
        st.just(""),
    )


def field(value: st.SearchStrategy[str]) -> st.SearchStrategy:
    """One value, a repeated key, or the key left out (None)."""
    return st.one_of(value, value, st.lists(value, min_size=2, max_size=3), st.none())


def nul_somewhere(draw, body: dict) -> dict:
    """One body in eight gets a NUL in one value (or as a key of its own)."""
    if not draw(st.integers(0, 7)) == 0:
        return body
    keys = sorted(body)
    key = draw(st.sampled_from(keys)) if keys and draw(st.booleans()) else draw(NUL)
    return body | {key: draw(NUL)}


@st.composite
def bodies(draw, keys: list[str], ids: list[str]):
    value = values(ids)
    body = {key: draw(field(value)) for key in keys}
    body |= draw(st.dictionaries(TEXT.filter(bool), value, max_size=2))
    return nul_somewhere(draw, {k: v for k, v in body.items() if v is not None})


NUMERIC_KEYS = [
    ("body", key)
    for key in (
        "CallDuration",
        "SequenceNumber",
        "QueueTime",
        "QueuePosition",
        "RecordingDuration",
        "Digits",
        "FriendlyName",
        "ParticipantLabel",
    )
] + [("query", key) for key in ("call", "offer", "menu", "tries", "department")]


@st.composite
def webhook_bodies(draw, ids: list[str], call_sids: list[str]):
    """What Twilio sends (every key of every webhook, plausible values, about a call Sangdam
    knows or not), with one to three keys of the body or the query string (?call=,
    ?offer=, ?menu=, …) replaced by a troublemaker, repeated or left out."""
    trouble = st.one_of(BIG, ODD_DIGITS, values(ids))  # Twilio's numbers and ids, mostly
    known = st.sampled_from(call_sids)
    valid = {**VALID, "CallSid": st.one_of(known, known, known, sid("CA"))}
    query_valid = {**QUERY, "call": st.sampled_from(ids), "offer": st.sampled_from(ids)}
    body = {k: draw(v) for k, v in valid.items()}
    query = {k: draw(v) for k, v in query_valid.items()}
    keys = [("body", k) for k in sorted(valid)] + [("query", k) for k in sorted(query_valid)]
    # Half the troublemakers go where a number or an id is read: what broke before.
    keys = st.one_of(st.sampled_from(NUMERIC_KEYS), st.sampled_from(keys))
    for where, key in draw(st.lists(keys, min_size=1, max_size=3, unique=True)):
        (body if where == "body" else query)[key] = draw(field(trouble))
    body |= draw(st.dictionaries(TEXT.filter(bool), trouble, max_size=2))
    return (
        nul_somewhere(draw, {k: v for k, v in body.items() if v is not None}),
        {k: v for k, v in query.items() if v is not None},
    )


# --- The oracle ----------------------------------------------------------------------------

# Sangdam's own apps: under the repository but not in a virtualenv kept inside it (`make`'s
# .venv), whose packages (django-otp counting a wrong code, axes a failed sign-in) record
# refused attempts on purpose.
PROJECT_APPS = [
    config
    for config in apps.get_app_configs()
    if Path(config.path).is_relative_to(Path(django_settings.BASE_DIR))
    and not Path(config.path).is_relative_to(Path(sys.prefix))
]


@functools.cache
def _fingerprint_sql() -> str:
    """One query: per table of Sangdam's apps, its row count, its largest id and the latest
    value of each of its date-time columns (updated_at, done_at, handled_at, …)."""
    from django.db import connection, models

    quote = connection.ops.quote_name
    parts = []
    for config in PROJECT_APPS:
        for model in config.get_models():
            columns = [model._meta.pk.column] + [
                f.column for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
            ]
            latest = " || '|' || ".join(
                f"COALESCE(CAST(MAX({quote(c)}) AS TEXT), '')" for c in columns
            )
            parts.append(
                f"SELECT '{model._meta.label}', COUNT(*), {latest} FROM {quote(model._meta.db_table)}"
            )
    return " UNION ALL ".join(parts)


def fingerprint() -> dict[str, tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return {label: (count, latest) for label, count, latest in cursor.fetchall()}


def changed(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


class _Undo(Exception):
    """Rolls back whatever the request did: every example starts from the same rows."""


def check(client, method: str, url: str, data, *, role: str, extra=None) -> None:
    """Webhooks run with dispatch held back (no simulated Twilio behind them); pages run
    with the simulated gateway, as in the demo (held back, the recording proxy has nothing
    to relay and answers 502)."""
    extra = extra or {}
    held_back = suppress_dispatch() if role == "twilio" else nullcontext()
    with suppress(_Undo), held_back, transaction.atomic():
        before = fingerprint()
        if method == "GET":
            response = client.get(url, data, **extra)
        else:
            response = client.post(
                url,
                urlencode(data, doseq=True),
                content_type="application/x-www-form-urlencoded",
                **extra,
            )
        after = fingerprint() if response.status_code < 500 else before
        raise _Undo
    if TALLY:
        with open(TALLY, "a") as out:
            out.write(
                json.dumps(
                    {
                        "method": method,
                        "url": url,
                        "role": role,
                        "data": data,
                        "status": response.status_code,
                        "changed": changed(before, after),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return
    shown = f"{method} {url} as {role} with {data!r:.300}"
    assert response.status_code < 500, f"{response.status_code}: {shown}"
    if 400 <= response.status_code < 500:
        assert not changed(before, after), f"{response.status_code} changed rows: {shown}"


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


# --- The rows the URLs point at --------------------------------------------------------------


@pytest.fixture
def world(org):
    """One of each thing a URL names, made the way the app makes it."""
    from demo.seed.qa import build_scorecard
    from kpi.models import PerformanceMonth
    from kpi.models import PerformanceSheet as Sheet
    from qa.models import SamplingPolicy
    from qa.services.calibration import calibration_create
    from qa.services.coaching import coaching_plan_create
    from qa.services.sampling import evaluation_assign_manual, sample_run_start
    from telephony.models import Voicemail
    from telephony.services.receiving import call_receive
    from telephony.services.routing import acd_route
    from tests.factories import CallFactory, PersonFactory, TicketFactory
    from tickets.approvals import approval_request_create
    from tickets.models import SavedView
    from tickets.services.followups import followup_create

    admin = PersonFactory(username="admin1", role=Role.ADMIN, center=org.center, is_staff=True)
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    SamplingPolicy.objects.create(department=org.general, calls_per_agent=2)
    scorecard = build_scorecard()
    call = CallFactory(agent=org.agent1, customer=ticket.customer, recorded=True)
    with suppress_dispatch():
        make_available(org.agent2)
        call_receive(sid="CA" + "7" * 32, from_number="+821070000001", to_number=GENERAL_NUMBER)
        offer = acd_route(queue_id=org.q_general.pk)[0]
    evaluation = evaluation_assign_manual(actor=org.lead1, call=call, evaluator=org.lead1)
    today = timezone.localdate()
    plan = coaching_plan_create(
        actor=org.lead1,
        agent=org.agent1,
        goals="목표",
        due_date=today + timedelta(days=7),
        follow_up_date=today + timedelta(days=14),
        tasks=[("연습", None)],
    )
    month = PerformanceMonth.objects.create(month=today.replace(day=1))
    return SimpleNamespace(
        org=org,
        admin=admin,
        ticket=ticket,
        call=call,
        offer=offer,
        voicemail=Voicemail.objects.create(
            call_sid="CA" + "8" * 32,
            department=org.general,
            customer=ticket.customer,
            received_at=timezone.now(),
        ),
        saved_view=SavedView.objects.create(owner=org.agent1, name="내 보기", query="q=1"),
        followup=followup_create(
            actor=org.agent1, customer=ticket.customer, due_at=timezone.now() + timedelta(days=1)
        ),
        approval=approval_request_create(requester=org.agent1, kind="escalation", reason="이유"),
        run=sample_run_start(actor=org.director, month=today.replace(day=1), dispatch=False),
        evaluation=evaluation,
        dispute=SimpleNamespace(pk=_dispute_pk(evaluation, org)),
        plan=plan,
        coaching_task=plan.tasks.first(),
        session=calibration_create(
            actor=org.trainer, call=call, participants=[org.lead1, org.lead2], title="보정"
        ),
        scorecard=scorecard,
        sheet=Sheet.objects.create(
            month=month,
            agent=org.agent1,
            team=org.team_a,
            department=org.general,
            computed_at=timezone.now(),
        ),
    )


def _dispute_pk(evaluation, org) -> int:
    """An evaluation the agent disputes needs it submitted first; when that is not possible
    with these rows, the id of no dispute (the view's 404 is still checked)."""
    from qa.services.disputes import dispute_open

    with suppress(Exception), transaction.atomic():
        return dispute_open(evaluation=evaluation, actor=org.agent1, reason="이의").pk
    return 10**6


ROLES = ("agent1", "lead1", "trainer", "manager", "director", "admin")


def person(world, role: str):
    return world.admin if role == "admin" else getattr(world.org, role)


def ids_of(world) -> list[str]:
    names = {**PATH_VALUES, "coaching_task": lambda w: w.coaching_task.pk}
    return sorted({str(get(world)) for get in names.values()} | {"0", "1"})


# --- Which keys a view reads -----------------------------------------------------------------


@contextmanager
def recording_keys():
    """Every key looked up in a QueryDict (request.GET, request.POST) while inside (not in
    other MultiValueDicts, such as the URL resolver's)."""
    seen: set[str] = set()
    names = ("__getitem__", "get", "getlist", "__contains__")
    originals = {name: getattr(QueryDict, name) for name in names}
    own = {name: QueryDict.__dict__[name] for name in names if name in QueryDict.__dict__}

    def spy(name):
        original = originals[name]

        def method(self, key, *args, **kwargs):
            if isinstance(key, str):
                seen.add(key)
            return original(self, key, *args, **kwargs)

        return method

    for name in names:
        setattr(QueryDict, name, spy(name))
    try:
        yield seen
    finally:
        for name in names:
            if name in own:
                setattr(QueryDict, name, own[name])
            else:
                delattr(QueryDict, name)


def probe(client, world, method: str, url: str) -> tuple[list[str], list[str]]:
    """The keys the view reads for a request with no field of its own, and the roles it
    does not refuse."""
    keys: set[str] = set()
    welcome = []
    for role in ROLES:
        client.force_login(person(world, role))
        with suppress(_Undo), suppress_dispatch(), transaction.atomic():
            with recording_keys() as seen:
                call = client.get if method == "GET" else client.post
                # Not empty: `Form(request.GET or None)` reads its fields only when bound.
                response = call(url, {"probe": "1"})
            keys |= seen
            raise _Undo
        if response.status_code not in (302, 403, 405):
            welcome.append(role)
    keys -= {"csrfmiddlewaretoken", "next", "HTTP_HX_REQUEST", "probe"}
    return sorted(keys), welcome or list(ROLES)


# --- The tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", WEBHOOKS)
def test_signed_garbage_to_a_webhook_never_errors_and_a_refusal_changes_nothing(
    client, world, path
):
    ids = ids_of(world)
    client.raise_request_exception = not TALLY

    @settings(SETTINGS, max_examples=WEBHOOK_EXAMPLES)
    @given(request=webhook_bodies(ids, [world.call.sid, "CA" + "7" * 32]))
    def run(request):
        body, query = request
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        signed = MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in body.items()})
        extra = {"HTTP_X_TWILIO_SIGNATURE": signature(url, signed)}
        check(client, "POST", url, body, role="twilio", extra=extra)

    run()


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", PAGES)
def test_odd_input_to_a_page_never_errors_and_a_refusal_changes_nothing(
    client, world, path, method
):
    url = concrete(path, world)
    ids = ids_of(world)
    keys, roles = probe(client, world, method, url)
    client.raise_request_exception = not TALLY

    @SETTINGS
    @given(data=bodies(keys, ids), role=st.sampled_from(roles))
    def run(data, role):
        client.force_login(person(world, role))
        check(client, method, url, data, role=role)

    run()


def test_every_url_is_covered():
    """The walk finds the webhooks and the pages (a broken walk would test nothing)."""
    assert len(WEBHOOKS) >= 13
    assert {"/tickets/", "/kpi/calls/", "/status/", "/tickets/customers/search/"} <= set(PAGES)


# --- The odd inputs that answered 500 before, one by one ------------------------------------

SIGNED_ODD = [
    ("/telephony/voice/status/", "", {"CallStatus": "completed", "CallDuration": str(2**31)}),
    ("/telephony/voice/status/", "", {"CallStatus": "ringing", "SequenceNumber": str(2**63)}),
    ("/telephony/voice/queue/result/", "", {"QueueResult": "hangup", "QueueTime": str(2**31)}),
    ("/telephony/voice/queue/wait/", "", {"QueueTime": str(2**64)}),
    (
        "/telephony/voice/recording/",
        "",
        {
            "RecordingSid": "RE" + "1" * 32,
            "RecordingStatus": "completed",
            "RecordingDuration": str(2**31),
        },
    ),
    (
        "/telephony/voice/recording/",
        "?call=²",
        {"RecordingSid": "RE" + "1" * 32, "RecordingStatus": "completed"},
    ),
    ("/telephony/voice/dial/result/", "?call=²", {"DialCallStatus": "completed"}),
    ("/telephony/voice/connect/", "?offer=①", {}),
    (
        "/telephony/voice/conference/",
        "",
        {
            "ConferenceSid": "CF" + "1" * 32,
            "FriendlyName": "call-1",
            "StatusCallbackEvent": "participant-join",
            "ParticipantLabel": "agent-²",
        },
    ),
]


@pytest.mark.parametrize(("path", "query", "body"), SIGNED_ODD)
def test_known_odd_webhook_bodies_are_refused_or_ignored(client, world, path, query, body):
    body = {"CallSid": world.call.sid, **body}
    url = path + query
    response = client.post(url, body, HTTP_X_TWILIO_SIGNATURE=signature(url, body))
    assert response.status_code < 500


PAGE_ODD = [
    ("agent1", "GET", "/tickets/", {"q": "²"}),
    ("agent1", "GET", "/tickets/", {"q": "T-①"}),
    ("agent1", "GET", "/api/tickets/", {"q": "²"}),
    ("agent1", "GET", "/tickets/customers/search/", {"q": "홍\x00길동"}),
    ("agent1", "GET", "/tickets/customers/search/", {"q": "홍", "call": "²"}),
    ("director", "GET", "/kpi/evaluations/", {"month": "0000-01"}),
    ("director", "GET", "/kpi/evaluations/", {"month": "9999-12"}),
    ("director", "GET", "/kpi/wallboard/", {"queue": "²"}),
    ("director", "GET", "/qa/sampling/", {"run": "²"}),
    ("agent1", "POST", "/tickets/<int:ticket_id>/notes/", {"body": "메모\x00"}),
    (None, "POST", "/status/", {"ticket_number": "²", "phone": "010-1234-5678"}),
    (
        "lead1",
        "POST",
        "/qa/evaluations/<int:evaluation_id>/comments/",
        {"at_seconds": "nan", "body": "확인"},
    ),
]


@pytest.mark.parametrize(("role", "method", "path", "data"), PAGE_ODD)
def test_known_odd_page_inputs_are_a_clear_answer(client, world, role, method, path, data):
    if role:
        client.force_login(person(world, role))
    url = concrete(path, world)
    before = fingerprint()
    response = client.get(url, data) if method == "GET" else client.post(url, data)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert not changed(before, fingerprint())
    if any("\x00" in value for value in data.values()):
        assert response.status_code == 400
