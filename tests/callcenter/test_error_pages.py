"""Not-found and error pages are Sangdam's own, in the person's language: in `make run`
(local settings, started as Procfile.dev starts the web server) as in a deployment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.exceptions import SuspiciousOperation
from django.test import Client, override_settings
from django.urls import path

ROOT = Path(__file__).resolve().parents[2]


def _fails(request):
    raise RuntimeError("a bug")


def _suspicious(request):
    raise SuspiciousOperation("a crafted request")


urlpatterns = [path("boom/", _fails), path("odd/", _suspicious)]


def _free_port() -> int:
    # 81xx: this machine's range for servers started by tests.
    for port in range(8150, 8200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8150–8199")


@pytest.fixture(scope="module")
def make_run_server(tmp_path_factory):
    """The web process of `make run`: local settings, the environment the Makefile exports
    (PORT, PUBLIC_BASE_URL), no DEBUG given."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    db = tmp_path_factory.mktemp("make-run") / "db.sqlite3"
    env.update(
        DJANGO_SETTINGS_MODULE="callcenter.settings.local",
        PORT=str(port),
        PUBLIC_PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=f"sqlite:///{db}",
    )
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(base + "/static/favicon.svg", timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(server.stderr.read().decode()[-2000:]) from None
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize(
    ("language", "title", "text"),
    [
        ("ko", "찾을 수 없음", "없는 페이지이거나 조회 권한이 없는 페이지입니다."),
        ("en", "Not found", "This page does not exist, or it is not one you may see."),
    ],
)
def test_make_run_answers_a_missing_page_with_sangdams_404(make_run_server, language, title, text):
    response = requests.get(
        make_run_server + "/no-such-page/", headers={"Accept-Language": language}, timeout=10
    )
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in response.text
    assert text in response.text
    assert "Page not found" not in response.text  # Django's debug page
    assert "URLconf" not in response.text


def test_make_run_still_serves_static_files(make_run_server):
    for name in ("css/sangdam.css", "js/sangdam.js", "vendor/htmx/htmx.min.js"):
        response = requests.get(f"{make_run_server}/static/{name}", timeout=10)
        assert response.status_code == 200, name
        assert response.content == (ROOT / "static" / name).read_bytes()


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("url", "status", "korean", "english"),
    [
        ("/boom/", 500, "문제가 발생했습니다", "Something went wrong"),
        ("/odd/", 400, "잘못된 요청", "Bad request"),
    ],
)
def test_errors_are_sangdams_pages_in_the_persons_language(url, status, korean, english):
    client = Client(raise_request_exception=False)
    for language, title in (("ko", korean), ("en", english)):
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == status
        body = response.content.decode()
        assert f"<h1>{title}</h1>" in body
        assert f'<html lang="{language}">' in body
        assert "/static/css/sangdam.css" in body


@pytest.mark.django_db
def test_a_stale_form_is_sangdams_page_expired(org):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "agent1", "password": "pw"})
    assert response.status_code == 403
    assert "<h1>페이지가 만료되었습니다</h1>" in response.content.decode()
