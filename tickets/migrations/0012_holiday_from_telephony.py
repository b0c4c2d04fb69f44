# The holiday calendar moves here from telephony; its table (telephony_holiday) stays.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0010_agentstatus_escalations_only"),
        ("telephony", "0012_holiday_moves_to_tickets"),
        ("tickets", "0011_customer_event"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Holiday",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("date", models.DateField(verbose_name="date")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        (
                            "center",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="holidays",
                                to="agents.center",
                                verbose_name="center",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "holiday",
                        "verbose_name_plural": "holidays",
                        "db_table": "telephony_holiday",
                        "ordering": ["date"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("center", "date"), name="one_holiday_per_day"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
