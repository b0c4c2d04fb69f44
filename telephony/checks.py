"""`manage.py check --deploy`: webhooks must not be verified with a token anyone can read.

A token is readable from the source when it is written in one of the project's own files
(settings defaults, the Dockerfile, the README, tests) or, for the simulator's token, when
the SECRET_KEY it is derived from is. Registered in TelephonyConfig.ready.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

# Text the project ships: code, settings, docs, build and compose files. `.env` files hold
# an operator's secrets and are not source; local state and dependencies are not either.
SOURCE_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".sh"}
SOURCE_NAMES = {"Dockerfile", "Makefile", "Procfile", "Procfile.dev"}
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "var",
    "staticfiles",
    "build",
    "test-artifacts",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}
# Shorter than this, a secret is guessable whether or not it is written down.
MIN_SECRET_LENGTH = 32


def _source_files(root: Path):
    for path in root.iterdir():
        if path.is_dir():
            if path.name not in SKIPPED_DIRS and not path.name.endswith(".egg-info"):
                yield from _source_files(path)
        elif path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES:
            yield path


@functools.lru_cache(maxsize=8)
def written_in_source(secret: str, root: str) -> str:
    """The first project file (relative path) that contains `secret`, or ""."""
    needle = secret.encode()
    for path in _source_files(Path(root)):
        try:
            if needle in path.read_bytes():
                return str(path.relative_to(root))
        except OSError:
            continue
    return ""


def _readable(secret: str) -> str:
    """Why `secret` is readable (or guessable), or "" when it is not."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    where = written_in_source(secret, str(settings.BASE_DIR))
    return f"written in {where}" if where else ""


@register(Tags.security, deploy=True)
def check_webhook_token(app_configs=None, **kwargs) -> list[Error]:
    if settings.TWILIO_AUTH_TOKEN:
        why = _readable(settings.TWILIO_AUTH_TOKEN)
        if why:
            return [
                Error(
                    f"Twilio webhooks are verified with a TWILIO_AUTH_TOKEN that is {why}: "
                    "anyone can forge calls and SMS.",
                    hint="Set TWILIO_AUTH_TOKEN to the account's auth token from the Twilio console.",
                    id="telephony.E001",
                )
            ]
        return []
    if settings.TELEPHONY_MODE != "simulated":
        return []  # no token: every webhook is refused
    why = _readable(settings.SECRET_KEY)
    if why:
        return [
            Error(
                "Simulated mode verifies webhooks with a token derived from SECRET_KEY, and "
                f"SECRET_KEY is {why}: anyone can forge calls and SMS.",
                hint="Set SECRET_KEY to a long random value of your own (README, Deployment).",
                id="telephony.E002",
            )
        ]
    return []
