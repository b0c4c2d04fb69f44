"""`make run`'s process manager (callcenter.procman): supervisord from Procfile.dev, which
restarts a process that dies instead of stopping all of them (honcho did), prefixes every
line with the process name, and on Ctrl+C stops each process with a signal it can handle."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from callcenter.procman import read_procfile, write_config


def wait_for(predicate, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_read_procfile_keeps_commands_whole_and_rejects_a_bad_line(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# demo\nweb: python -m http.server ${PORT:-8000}\n\nworker: a: b\n")
    assert read_procfile(procfile) == {
        "web": "python -m http.server ${PORT:-8000}",
        "worker": "a: b",
    }
    procfile.write_text("web python\n")
    with pytest.raises(ValueError, match="Procfile:1"):
        read_procfile(procfile)


def test_the_project_procfile_becomes_a_config_that_restarts_every_process(tmp_path):
    names = read_procfile(Path(settings.BASE_DIR) / "Procfile.dev")
    assert {"web", "worker", "colleagues"} <= set(names)
    config = write_config(Path(settings.BASE_DIR) / "Procfile.dev", tmp_path).read_text()
    for name in names:
        section = config.split(f"[program:{name}]\n", 1)[1].split("\n\n", 1)[0]
        assert "autorestart=true" in section and "stopsignal=TERM" in section


def test_a_killed_process_is_restarted_the_others_keep_running_and_ctrl_c_stops_all():
    # A short folder: the control socket's path must fit a Unix socket name.
    work = Path(tempfile.mkdtemp(prefix="pm-"))
    try:
        procfile = work / "Procfile"
        procfile.write_text(
            f"victim: echo $$ >> {work}/victim; echo victim up; exec sleep 600\n"
            f"bystander: trap 'echo logging off; exit 0' TERM; echo $$ >> {work}/bystander;"
            " while true; do sleep 0.1; done\n"
        )
        config = write_config(procfile, work / "var", startsecs=1, stopwaitsecs=10)
        manager = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert wait_for(lambda: pids(work / "victim") and pids(work / "bystander"))
            victim, bystander = pids(work / "victim")[0], pids(work / "bystander")[0]
            time.sleep(1.5)  # past startsecs: RUNNING, so the death is a crash, not a start
            os.kill(victim, signal.SIGKILL)
            assert wait_for(lambda: len(pids(work / "victim")) == 2), "victim not restarted"
            assert pids(work / "bystander") == [bystander] and alive(bystander)
            restarted = pids(work / "victim")[1]
            assert alive(restarted)

            manager.send_signal(signal.SIGINT)  # Ctrl+C in the terminal
            out, _ = manager.communicate(timeout=30)
        finally:
            if manager.poll() is None:
                manager.kill()
                manager.communicate()
        assert manager.returncode == 0
        assert not alive(restarted) and not alive(bystander)
        # Output came back prefixed with the (padded) process name, both victim runs, and
        # the bystander's stop handler ran before supervisord let it go.
        assert out.count("victim    | victim up") == 2
        assert "bystander | logging off" in out
    finally:
        shutil.rmtree(work, ignore_errors=True)
