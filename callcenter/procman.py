"""`make run`'s process manager: supervisord, from the processes listed in Procfile.dev.

honcho (used before) stops every process when one exits, so one crash of the worker ended
the web server and the simulators too. supervisord restarts a process that dies and leaves
the others alone. This module writes its config into var/ and runs it in the foreground:

    python -m callcenter.procman [Procfile.dev]                  # what `make run` does
    .venv/bin/supervisorctl -c var/supervisord.conf status         # from another terminal
    .venv/bin/supervisorctl -c var/supervisord.conf restart worker

Every process runs under `python -m callcenter.procman --prefix NAME -- COMMAND`: the
command goes through /bin/sh as with honcho (so `${SIM_RATE}` and `${X:-default}` still
expand), its output comes back line by line with the process name in front, and a stop
signal is passed to the command's whole process group, so it ends the way Ctrl+C under
honcho did (the simulated colleagues log off). Ctrl+C stops supervisord, which stops
every process and waits for it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from callcenter.runenv import run_env_write

BASE_DIR = Path(__file__).resolve().parent.parent


def read_procfile(path: Path) -> dict[str, str]:
    """name → command, in file order, as honcho reads a Procfile."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"{path}:{number}: expected 'name: command'")
        processes[name.strip()] = command.strip()
    return processes


def supervisord_config(
    processes: dict[str, str],
    *,
    var_dir: Path,
    directory: Path = BASE_DIR,
    python: str = sys.executable,
    startsecs: int = 5,
    stopwaitsecs: int = 20,
) -> str:
    def value(text: object) -> str:  # supervisord expands %(name)s in values
        return str(text).replace("%", "%%")

    width = max(map(len, processes), default=0)
    lines = [
        "; Written by `python -m callcenter.procman` (make run); edits are overwritten.",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={value(var_dir / 'supervisord.log')}",
        "logfile_maxbytes=1MB",
        "logfile_backups=1",
        f"pidfile={value(var_dir / 'supervisord.pid')}",
        f"directory={value(directory)}",
        "",
        "[unix_http_server]",
        f"file={value(var_dir / 'supervisor.sock')}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{value(var_dir / 'supervisor.sock')}",
    ]
    for name, command in processes.items():
        argv = [python, "-m", "callcenter.procman", "--prefix", name.ljust(width), "--", command]
        lines += [
            "",
            f"[program:{name}]",
            f"command={value(shlex.join(argv))}",
            f"directory={value(directory)}",
            # A process that dies is started again, however it ended; one that cannot
            # stay up for `startsecs` is retried with a growing pause, then given up.
            "autorestart=true",
            f"startsecs={startsecs}",
            "startretries=10",
            "stopsignal=TERM",
            f"stopwaitsecs={stopwaitsecs}",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            'environment=PYTHONUNBUFFERED="1"',
        ]
    return "\n".join(lines) + "\n"


def write_config(procfile: Path, var_dir: Path, **options) -> Path:
    var_dir.mkdir(parents=True, exist_ok=True)
    config = var_dir / "supervisord.conf"
    config.write_text(supervisord_config(read_procfile(procfile), var_dir=var_dir, **options))
    return config


def run_prefixed(prefix: str, command: str) -> int:
    """Run `command` through /bin/sh, print its output with `prefix`, pass stop signals to
    its process group, and return its exit status (128 + signal when a signal ended it)."""
    child = subprocess.Popen(  # noqa: S603 - the command is the developer's own Procfile
        ["/bin/sh", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        process_group=0,
    )

    def forward(signum, _frame) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    head = f"{prefix} | ".encode()
    out = sys.stdout.buffer
    for line in iter(child.stdout.readline, b""):
        out.write(head + line)
        out.flush()
    status = child.wait()
    return 128 - status if status < 0 else status


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--prefix"]:
        if len(argv) != 4 or argv[2] != "--":
            sys.exit("usage: python -m callcenter.procman --prefix NAME -- 'COMMAND'")
        return run_prefixed(argv[1], argv[3])
    parser = argparse.ArgumentParser(prog="python -m callcenter.procman")
    parser.add_argument("procfile", nargs="?", default="Procfile.dev")
    args = parser.parse_args(argv)
    config = write_config(Path(args.procfile), BASE_DIR / "var")
    # The README's commands in another shell find this server whatever PORT it was given.
    run_env_write(var_dir=BASE_DIR / "var", environ=os.environ)
    supervisord = [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)]
    os.execv(sys.executable, supervisord)  # noqa: S606 - replaces this process


if __name__ == "__main__":
    sys.exit(main())
