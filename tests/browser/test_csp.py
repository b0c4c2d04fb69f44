"""Issue 17, item 5: each role's main pages run in Chromium under the Content-Security-Policy
with no violation (no inline script or style, no eval by htmx), and the page's own polls are
marked as background requests (callcenter/session_guard.py) while a person's click is not."""

import pytest

from tests.browser.test_call_flow import browser, login  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "agent1": ["/agents/desktop/", "/tickets/", "/kpi/", "/kpi/wallboard/", "/qa/"],
    "lead1": [
        "/agents/desktop/",
        "/agents/team/",
        "/kpi/",
        "/kpi/wallboard/",
        "/tickets/",
        "/qa/",
    ],
    "manager1": ["/kpi/", "/kpi/wallboard/", "/tickets/", "/qa/", "/qa/reports/"],
    "director": ["/kpi/", "/kpi/evaluations/", "/kpi/wallboard/", "/tickets/", "/qa/"],
}
# Every securitypolicyviolation event of the page, kept across htmx swaps.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.mark.parametrize("username", list(PAGES))
def test_main_pages_run_without_a_csp_violation(live_server, org, browser, username):  # noqa: F811
    page = login(browser, live_server.url, username)
    page.wait_for_load_state("networkidle")
    page.context.add_init_script(WATCH)
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for path in PAGES[username]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, path
        page.wait_for_timeout(2500)  # polls every 0.5–2 s (the team board's inbox: 5 s)
        if path == "/agents/team/":
            page.wait_for_timeout(3000)
        violations = page.evaluate("window.__csp")
        assert violations == [], (path, violations)
    assert console == []


def test_polls_are_background_and_clicks_are_not(live_server, org, browser):  # noqa: F811
    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    seen = []
    page.on(
        "request",
        lambda r: seen.append((r.method, r.url, r.headers.get("x-sangdam-background"))),
    )
    page.wait_for_timeout(2500)
    polls = [s for s in seen if "fragment=panel" in s[1]]
    assert polls and all(flag == "1" for _, _, flag in polls)
    seen.clear()
    page.keyboard.press("F2")  # the agent makes themself available: an action
    page.wait_for_timeout(1000)
    posts = [s for s in seen if s[0] == "POST"]
    assert posts and all(flag is None for _, _, flag in posts)
