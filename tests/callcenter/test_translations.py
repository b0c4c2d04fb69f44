"""Every string marked for translation has its Korean: `makemessages` run on a copy of the
source finds no message without a translation (a fuzzy guess is not one: it is not
compiled), except those Django's own catalogs translate (the admin's "Home")."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.conftest import _needs

ROOT = Path(settings.BASE_DIR)
SOURCE = [
    "agents",
    "callcenter",
    "demo",
    "desk",
    "kpi",
    "privacy",
    "qa",
    "telephony",
    "tickets",
    "templates",
]
PO = Path("locale/ko/LC_MESSAGES/django.po")


@pytest.fixture(autouse=True)
def gettext_tools():
    if not (shutil.which("xgettext") and shutil.which("msgfmt")):
        _needs("needs GNU gettext (xgettext, msgfmt): apt-get install gettext")


def _joined(block: str, key: str) -> str | None:
    match = re.search(rf'^{key} ((?:".*"\n?)+)', block, re.M)
    if match is None:
        return None
    return "".join(re.findall(r'"(.*)"', match.group(1))).replace('\\"', '"')


def _entries(po: str):
    """(msgctxt, msgid, msgstr, fuzzy) of each message of a .po file."""
    for block in po.split("\n\n"):
        if "\n#~ " in "\n" + block:
            continue
        msgid = _joined(block, "msgid")
        if msgid:
            yield (
                _joined(block, "msgctxt"),
                msgid,
                _joined(block, "msgstr") or "",
                "#, fuzzy" in block,
            )


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> str:
    """The Korean catalog as `makemessages` leaves it after reading today's source."""
    copy = tmp_path_factory.mktemp("source")
    for name in SOURCE:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "locale", copy / "locale")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "callcenter.settings.test"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-obsolete", "-v0"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return (copy / PO).read_text()


def test_every_marked_string_has_a_korean_translation(extracted):
    missing = []
    with translation.override("ko"):
        for context, msgid, msgstr, fuzzy in _entries(extracted):
            if msgstr and not fuzzy:
                continue
            translated = (
                translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            )
            if translated == msgid:  # nor in Django's own catalogs
                missing.append(msgid)
    assert missing == []


def test_the_catalog_in_the_repository_is_the_compiled_one():
    # msgfmt --check passes and the .mo holds what the .po says (a forgotten recompile
    # shows English for the new strings).
    po = ROOT / PO
    fresh = subprocess.run(
        ["msgfmt", "--check", "-o", "-", str(po)], capture_output=True, check=True
    ).stdout
    assert fresh == po.with_suffix(".mo").read_bytes()
