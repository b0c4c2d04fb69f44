"""Once created FCR's index on telephony_call here by raw SQL. The index now belongs to the
Call model (telephony migration 0007, `call_customer_dept_enqueued`), which also drops the
one this migration made on databases that ran it; this migration does nothing now."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kpi", "0002_metrics_surveys_targets_evaluation"),
        ("telephony", "0004_ivr_closed_callback"),
    ]

    operations = []
