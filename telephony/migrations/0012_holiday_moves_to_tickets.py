# The holiday calendar moves to tickets (SLA clocks read it, and tickets is the lower floor);
# the table stays where it is (tickets 0012 takes it over by name).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0011_call_handover"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Holiday")],
            database_operations=[],
        ),
    ]
