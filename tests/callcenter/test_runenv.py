"""The README's "more calls now" command, typed in another shell, reaches the server
`make run` started whatever PORT it was given: make run records its address in
var/run.env and local settings adopt it while that make run is running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter import procman
from callcenter.runenv import run_env_adopt

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def started_make_run(tmp_path, monkeypatch):
    """What `PORT=8123 make run` leaves in var/ (procman up to the exec of supervisord),
    with a running supervisord's pid file."""
    monkeypatch.setattr(procman, "BASE_DIR", tmp_path)
    monkeypatch.setattr(os, "execv", lambda *args: None)
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("PUBLIC_PORT", "8123")
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8123")
    procman.main([str(ROOT / "Procfile.dev")])
    var = tmp_path / "var"
    (var / "supervisord.pid").write_text(f"{os.getpid()}\n")  # a live process
    return var


def test_another_shell_takes_the_running_servers_port(started_make_run):
    shell: dict[str, str] = {"PATH": "/usr/bin"}  # no PORT, no PUBLIC_BASE_URL
    assert run_env_adopt(var_dir=started_make_run, environ=shell)
    assert shell["PORT"] == "8123"
    assert shell["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"


def test_a_port_the_shell_names_wins(started_make_run):
    shell = {"PORT": "8200"}
    assert not run_env_adopt(var_dir=started_make_run, environ=shell)
    assert shell == {"PORT": "8200"}


def test_a_make_run_that_ended_is_not_believed(started_make_run):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (started_make_run / "supervisord.pid").write_text(finished.stdout)
    shell: dict[str, str] = {}
    assert not run_env_adopt(var_dir=started_make_run, environ=shell)
    assert shell == {}


def test_the_simulator_signs_for_and_posts_to_the_adopted_url(started_make_run):
    """Settings computed the way local settings compute them, in a fresh interpreter."""
    code = (
        "import os, sys; from pathlib import Path;"
        "from callcenter.runenv import run_env_adopt;"
        f"run_env_adopt(var_dir=Path({str(started_make_run)!r}));"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'callcenter.settings.base';"
        "import django; django.setup();"
        "from telephony.simulator import HttpTransport;"
        "from django.conf import settings;"
        "print(settings.PUBLIC_BASE_URL, HttpTransport().target_base)"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in {"PORT", "PUBLIC_PORT", "PUBLIC_BASE_URL"}
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["http://127.0.0.1:8123", "http://127.0.0.1:8123"]


def test_local_settings_adopt_it_before_reading_the_port():
    local = (ROOT / "callcenter" / "settings" / "local.py").read_text()
    assert local.index("run_env_adopt(") < local.index("from .base import *")
