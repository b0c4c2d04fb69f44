"""`make bench`: run every bench module, print one table of ratios measured in this run.

A bench module is any `bench/<name>.py` (not starting with "_") that exposes
`run() -> dict`. The dict is either {"metrics": [row, ...], "notes": [str, ...]} where a row is
    {"metric": str, "measured": float, "unit": str, "baseline": float | None,
     "ratio": float | None, "target": str, "passed": bool | None}
or, for a quick module, {metric name: number or row-without-"metric"}.

The database: BENCH_DATABASE_URL, else DATABASE_URL, else var/bench-run.sqlite3. It is wiped
and migrated first, so a non-SQLite database must have "bench" in its name (e.g. `createdb
bench`). Exit status is 0 unless a module crashed, or a target failed with BENCH_STRICT=1.
Results are also written to var/bench-results.json.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ORDER = ["webhook", "routing", "wallboard_latency"]
NOT_BENCHES = {"run", "settings", "urls"}


def _database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{BASE_DIR / 'var' / 'bench-run.sqlite3'}"
    if not url.startswith("sqlite") and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit(
            f"bench: refusing to wipe {url!r}: point BENCH_DATABASE_URL at a database whose "
            "name contains 'bench' (createdb -h 127.0.0.1 -U postgres bench)"
        )
    return url


def _prepare_database() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
    else:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    if settings.REDIS_URL:
        # The live tallies' counts of an earlier run are kept under its change marks, which
        # start again after the flush.
        from django.core.cache import cache

        cache.clear()


def _calibrate() -> float:
    """A fixed pure-Python loop: how fast this core is right now (compare runs with it)."""
    t0 = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    return 2.0 / (time.process_time() - t0)


def _discover() -> list[str]:
    names = [
        p.stem
        for p in (BASE_DIR / "bench").glob("*.py")
        if not p.stem.startswith("_") and p.stem not in NOT_BENCHES
    ]
    return [n for n in ORDER if n in names] + sorted(n for n in names if n not in ORDER)


def _rows(module: str, out: dict) -> tuple[list[dict], list[str]]:
    notes = [str(n) for n in out.get("notes", [])]
    if "metrics" in out:
        rows = [dict(r) for r in out["metrics"]]
    else:
        rows = list(_flatten(out))
    for row in rows:
        row["metric"] = f"{module}: {row.get('metric', '?')}"
    return rows, notes


def _flatten(out: dict, prefix: str = ""):
    """Rows from a free-form dict: a dict with "measured" is a row; another dict is walked
    (its keys joined into the metric name); a bool is a pass/fail; a number is a figure."""
    for key, value in out.items():
        if key == "notes":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "measured" in value:
            yield {"metric": name, **value}
        elif isinstance(value, dict):
            yield from _flatten(value, f"{name} ")
        elif isinstance(value, bool):
            yield {"metric": name, "passed": value}
        elif isinstance(value, int | float):
            yield {"metric": name, "measured": value}


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def _print_table(rows: list[dict]) -> None:
    header = ["metric", "measured", "baseline", "ratio", "target", "pass"]
    table = [header]
    for r in rows:
        unit = r.get("unit", "")
        passed = r.get("passed")
        table.append(
            [
                r["metric"],
                _fmt(r.get("measured"), unit),
                _fmt(r.get("baseline"), r.get("baseline_unit", unit)),
                _fmt(r.get("ratio")),
                str(r.get("target") or "-"),
                "-" if passed is None else ("PASS" if passed else "FAIL"),
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = _database_url()
    import django

    django.setup()
    started = time.perf_counter()
    _prepare_database()
    from django.conf import settings

    print(
        f"bench: database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"({settings.DATABASES['default']['NAME']}), redis {settings.REDIS_URL or 'none'}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start, "
        f"CPU calibration {_calibrate():.1f} M Python loop steps/s",
        flush=True,
    )
    only = set(argv)
    rows: list[dict] = []
    notes: list[str] = []
    crashed = False
    for name in _discover():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        print(f"bench: {name} …", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            if not callable(getattr(module, "run", None)):
                continue
            out = module.run()
        except Exception:
            traceback.print_exc()
            crashed = True
            rows.append({"metric": f"{name}: crashed", "passed": False})
            continue
        module_rows, module_notes = _rows(name, out)
        rows += module_rows
        notes += [f"{name}: {n}" for n in module_notes]
        print(f"bench: {name} took {time.perf_counter() - t0:.1f} s", flush=True)
    print()
    _print_table(rows)
    if notes:
        print()
        for note in notes:
            print(f"- {note}")
    print(
        f"\nbench: {time.perf_counter() - started:.0f} s in all; "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )
    out_file = BASE_DIR / "var" / "bench-results.json"
    out_file.write_text(json.dumps({"rows": rows, "notes": notes}, indent=2, default=str))
    failed = any(r.get("passed") is False for r in rows)
    if crashed or (failed and os.environ.get("BENCH_STRICT") == "1"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
