"""bench/kpi.py writes its 10 M calls with INSERT … SELECT, outside the ORM: each such INSERT
must name every column of telephony_call that has neither a NULL nor a database default, or
`make bench BENCH_ARGS=kpi` dies on the first row (it did after issue 18 added the call's
notepad and handover)."""

import re
from pathlib import Path

from django.conf import settings

from telephony.models import Call


def test_every_call_insert_in_the_kpi_bench_names_every_required_column():
    source = (Path(settings.BASE_DIR) / "bench" / "kpi.py").read_text()
    inserts = re.findall(r"INSERT INTO telephony_call \((.*?)\)", source, flags=re.S)
    assert len(inserts) == 2  # the year's calls and each interval's new ones
    required = {
        f.column
        for f in Call._meta.concrete_fields
        if not f.null and not f.primary_key and not f.has_db_default()
    }
    for columns in inserts:
        named = {c.strip() for c in columns.split(",")}
        assert required <= named, sorted(required - named)
