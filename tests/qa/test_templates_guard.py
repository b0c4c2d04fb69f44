"""QA templates check the role only when someone is signed in (`{% if me %}` first): with no
`me`, `me.role != Role.AGENT` would be true and show staff links."""

import pytest
from django.template.loader import render_to_string

from agents.models import Role


@pytest.mark.parametrize(
    ("template", "staff_only"),
    [
        ("qa/_nav.html", "/qa/recordings/"),
        ("qa/_nav.html", "/qa/reports/"),
        ("qa/scorecards.html", "/qa/scorecards/new/"),
        ("qa/home.html", 'id="my-queue"'),
    ],
)
def test_without_me_no_role_section_is_shown(db, template, staff_only):
    page = render_to_string(template, {"me": None, "Role": Role})
    assert staff_only not in page


def test_with_me_the_staff_links_are_there(org):
    page = render_to_string("qa/_nav.html", {"me": org.trainer, "Role": Role})
    assert "/qa/recordings/" in page and "/qa/sampling/" in page
