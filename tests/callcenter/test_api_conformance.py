"""The REST API keeps to its OpenAPI schema: the schema builds without a warning (unique
component names: three serializers were all called `Input`, so two endpoints documented the
wrong body), and schemathesis, signed in as each of four roles, finds no server error and no
answer that the schema does not describe (status code, content type, body). This is the
small run for CI; `make api-check` runs the long one against a seeded server."""

import base64

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callcenter.wsgi import application
from tests.factories import TicketFactory

ROLES = ("agent1", "lead1", "manager1", "director")
EXAMPLES = 12  # per operation and role: about a minute in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_builds_without_a_warning(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    text = (tmp_path / "schema.yaml").read_text()
    for name in ("TicketUpdateInput", "TicketNoteInput", "DisputeOpenInput", "DisputeResolveInput"):
        assert f"    {name}:" in text or f"    Patched{name}:" in text


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI application inside the test's transaction: like
    Django's test client, keep the request signals from closing that connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_to_its_schema(org, role, wsgi_in_test_transaction):
    TicketFactory(team=org.team_a, assignee=org.agent1)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    token = base64.b64encode(f"{role}:pw".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    failures = []
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_the_schema(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            keeps_to_the_schema()
        except Exception as exc:  # every operation's failures, not only the first one's
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
