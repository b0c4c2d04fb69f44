"""The post-call survey is telephony's now (telephony 0012): kpi forgets the model and keeps
the table, which telephony's model names (db_table = "kpi_survey")."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kpi", "0008_verbose_names"),
        ("telephony", "0013_survey_moved_from_kpi"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Survey")],
            database_operations=[],
        ),
    ]
