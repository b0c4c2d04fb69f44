"""FCR's repeat-contact lookup (kpi/services.py::_handled_calls) asks, per handled call, for
a later handled call of the same customer in the same department within 7 days. This index
answers it from one range scan. It lives on telephony_call but is created here, by raw SQL,
because only the KPI rollup needs it (the same SQL works on PostgreSQL and SQLite)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kpi", "0002_metrics_surveys_targets_evaluation"),
        ("telephony", "0004_ivr_closed_callback"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS kpi_call_customer_dept_enqueued "
            "ON telephony_call (customer_id, department_id, enqueued_at)",
            "DROP INDEX IF EXISTS kpi_call_customer_dept_enqueued",
        )
    ]
