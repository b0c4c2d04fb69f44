# Targets move to the org chart (agents.Target, dated by month). Each old KPI target becomes
# a row "since the start", in the one storage convention: every rate a fraction. The old
# rows mixed 0.8 (service level, CSAT) with 85 (QA points): a rate above 1 was a percent.
# An old department or team call target won over the team's own daily call target on the
# KPI pages and in the evaluation, so it wins here too (agents 0009 copied those).

import datetime

import django.utils.timezone
from django.db import migrations

SINCE_THE_START = datetime.date(2000, 1, 1)
RATES = {"service_level", "csat", "qa", "main_task", "fcr"}


def _as_stored(metric, value):
    if metric in RATES and value > 1:
        value = value / 100
    return min(max(value, 0.0), 1.0) if metric in RATES else max(value, 0.0)


def kpi_targets_to_org_chart(apps, schema_editor):
    Old = apps.get_model("kpi", "Target")
    New = apps.get_model("agents", "Target")
    Team = apps.get_model("agents", "Team")
    now = django.utils.timezone.now()
    copied_calls = New.objects.filter(
        metric="calls_per_day", effective_from=SINCE_THE_START, set_by__isnull=True
    )
    for old in Old.objects.all():
        if old.metric == "calls_per_day":
            teams = (
                [old.team_id]
                if old.team_id
                else Team.objects.filter(department_id=old.department_id).values("id")
            )
            copied_calls.filter(team_id__in=teams).delete()
        New.objects.create(
            department_id=None if old.team_id else old.department_id,
            team_id=old.team_id,
            metric=old.metric,
            value=_as_stored(old.metric, old.value),
            effective_from=SINCE_THE_START,
            set_at=now,
        )


def org_chart_targets_to_kpi(apps, schema_editor):
    Old = apps.get_model("kpi", "Target")
    New = apps.get_model("agents", "Target")
    for new in New.objects.filter(center__isnull=True, value__isnull=False).order_by(
        "effective_from"
    ):
        value = new.value * 100 if new.metric == "qa" else new.value
        Old.objects.update_or_create(
            department_id=None if new.team_id else new.department_id,
            team_id=new.team_id,
            metric=new.metric,
            defaults={"value": value},
        )


class Migration(migrations.Migration):

    dependencies = [
        ('kpi', '0005_survey_phone_index'),
        ('agents', '0009_targets_on_the_org_chart'),
    ]

    operations = [
        migrations.RunPython(kpi_targets_to_org_chart, org_chart_targets_to_kpi),
        migrations.DeleteModel(
            name='Target',
        ),
    ]
