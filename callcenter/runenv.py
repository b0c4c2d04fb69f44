"""Where `make run`'s web server listens, for the manage.py commands started beside it.

`make run` takes `PORT` (and `PUBLIC_BASE_URL`, which webhook signatures are checked
against) from the environment of the shell it was started in; a command typed in another
shell (the README's "more calls now") does not have them and would post to port 8000, signed
for the wrong URL. So `make run` (callcenter/procman.py) writes them to var/run.env, and
local settings adopt them while that `make run` is running, unless the shell sets its own.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

KEYS = ("PORT", "PUBLIC_PORT", "PUBLIC_BASE_URL")
FILE_NAME = "run.env"


def run_env_write(*, var_dir: Path, environ: MutableMapping[str, str]) -> Path:
    """Record the server's address (the keys `make run` exported) in var/run.env."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / FILE_NAME
    path.write_text("".join(f"{k}={environ[k]}\n" for k in KEYS if environ.get(k)))
    return path


def _supervisord_running(var_dir: Path) -> bool:
    try:
        pid = int((var_dir / "supervisord.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def run_env_adopt(*, var_dir: Path, environ: MutableMapping[str, str] = os.environ) -> bool:
    """Take the running `make run`'s address as this process's defaults. Nothing changes
    when the shell names a port or URL itself, or when no `make run` is running (a file
    left by an earlier one is not believed). Returns whether it adopted them."""
    if any(environ.get(k) for k in KEYS) or not _supervisord_running(var_dir):
        return False
    try:
        lines = (var_dir / FILE_NAME).read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key in KEYS and value:
            environ[key] = value
    return True
