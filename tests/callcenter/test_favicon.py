"""The favicon: /favicon.ico leads to a real icon file, and every page links it."""

from django.contrib.staticfiles import finders


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/favicon.ico")
    path = finders.find("favicon.ico")
    assert path
    with open(path, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO header
    assert finders.find("favicon.svg")


def test_pages_link_the_icon(client, org):
    client.force_login(org.agent1)
    body = client.get("/agents/desktop/").content.decode()
    assert "/static/favicon.svg" in body and "/static/favicon.ico" in body
