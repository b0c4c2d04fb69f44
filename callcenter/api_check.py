"""`make api-check`: schemathesis over /api/schema/ for four roles against a live server with
the demo seed; prints each role's results and fails if any role has a failure.

    python -m callcenter.api_check            # start a server on a seeded SQLite file
    API_CHECK_URL=http://127.0.0.1:8000 python -m callcenter.api_check   # use a running one

Settings (environment): API_CHECK_URL, API_CHECK_PORT (8765), API_CHECK_ROLES
(agent1,lead1,manager1,director), API_CHECK_EXAMPLES (25 per operation and phase),
API_CHECK_SEED (17), API_CHECK_TIMEOUT (30 s a request: a busy machine is not a failure),
DEMO_PASSWORD, DATABASE_URL (else var/api-check.sqlite3). Each role's full
schemathesis output is kept in var/api-check/<role>.txt.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "api-check"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def _bin(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else name


def _wait_for(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our server)
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"api-check: no answer from {url}")
        time.sleep(1)


def _start_server(env: dict, port: int) -> subprocess.Popen:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)  # noqa: S603
    subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    log = (OUT / "server.log").open("w")
    return subprocess.Popen(  # noqa: S603
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def summarise(output: str) -> dict:
    """The figures of one schemathesis run, from its summary."""
    failures = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"❌ (ST\d+ [^:\n]+|Server error[^:\n]*): (\d+)", output)
    }
    generated = re.search(r"(\d+) generated", output)
    return {
        "generated": int(generated.group(1)) if generated else 0,
        "failures": failures,
        "server_errors": sum(n for k, n in failures.items() if "server error" in k.lower()),
        # requests that got no answer (e.g. timeouts), not failures of the API's answers
        "errors": sum(int(m.group(1)) for m in re.finditer(r"🚫 [^:\n]+: (\d+)", output)),
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "callcenter.settings.local"}
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'api-check.sqlite3'}")
    password = env.get("DEMO_PASSWORD", "sangdam-demo")
    roles = env.get("API_CHECK_ROLES", "agent1,lead1,manager1,director").split(",")
    examples = env.get("API_CHECK_EXAMPLES", "25")
    seed = env.get("API_CHECK_SEED", "17")
    base = env.get("API_CHECK_URL", "").rstrip("/")
    server = None
    if not base:
        port = int(env.get("API_CHECK_PORT", "8765"))
        base = f"http://127.0.0.1:{port}"
        print(f"api-check: seeding {env['DATABASE_URL']} and starting a server on {base}")
        server = _start_server(env, port)
    try:
        _wait_for(f"{base}/api/schema/")
        results = {}
        for role in roles:
            started = time.monotonic()
            run = subprocess.run(  # noqa: S603
                [
                    _bin("schemathesis"),
                    "run",
                    f"{base}/api/schema/",
                    "--auth",
                    f"{role}:{password}",
                    "--checks",
                    CHECKS,
                    "--phases",
                    "examples,coverage,fuzzing",
                    "--max-examples",
                    examples,
                    "--seed",
                    seed,
                    "--workers",
                    "1",
                    "--request-timeout",
                    env.get("API_CHECK_TIMEOUT", "30"),
                    "--no-color",
                ],
                env={**env, "NO_COLOR": "1"},
                capture_output=True,
                text=True,
            )
            (OUT / f"{role}.txt").write_text(run.stdout + run.stderr)
            results[role] = {
                **summarise(run.stdout),
                "rc": run.returncode,
                "seconds": time.monotonic() - started,
            }
            r = results[role]
            found = ", ".join(f"{k}: {n}" for k, n in r["failures"].items()) or "none"
            print(
                f"{role:9} {r['generated']:5} cases  server errors {r['server_errors']}  "
                f"failures {sum(r['failures'].values())} ({found})  no answer {r['errors']}  "
                f"exit {r['rc']}  {r['seconds']:.0f} s"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    bad = [role for role, r in results.items() if r["rc"] != 0]
    if bad:
        print(f"api-check: failures for {', '.join(bad)}; see {OUT}/<role>.txt")
        return 1
    print("api-check: no server error and no conformance failure for any role")
    return 0


if __name__ == "__main__":
    sys.exit(main())
