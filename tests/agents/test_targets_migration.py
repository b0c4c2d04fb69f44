"""The move of targets to the org chart keeps what each page showed and stores every rate
as a fraction (issue 18, item 10: the old rows mixed 0.8 with 85)."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("agents", "0008_state_interval_person_newest_and_ended_at"),
    ("kpi", "0005_survey_phone_index"),
]
AFTER = [
    ("agents", "0009_targets_on_the_org_chart"),
    ("kpi", "0006_targets_moved_to_the_org_chart"),
]


@pytest.mark.django_db(transaction=True)
def test_old_targets_move_normalised_and_kpi_call_targets_win():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    center = old.get_model("agents", "Center").objects.create(name="센터")
    Department = old.get_model("agents", "Department")
    general = Department.objects.create(
        center=center, name="일반", kind="general", phone_number="+821"
    )
    signup = Department.objects.create(
        center=center, name="가입", kind="signup", phone_number="+822"
    )
    Team = old.get_model("agents", "Team")
    team_a = Team.objects.create(department=general, name="A", daily_call_target=50)
    team_c = Team.objects.create(department=signup, name="C", daily_call_target=70)
    OldTarget = old.get_model("kpi", "Target")
    OldTarget.objects.create(department=general, metric="calls_per_day", value=10)
    OldTarget.objects.create(department=general, metric="service_level", value=0.8)
    OldTarget.objects.create(department=general, metric="qa", value=85)
    OldTarget.objects.create(department=signup, metric="service_level", value=80)  # a percent

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    rows = {
        ("team" if t.team_id else "dept", t.department_id or t.team_id, t.metric): t.value
        for t in new.get_model("agents", "Target").objects.all()
    }
    assert rows == {
        ("dept", general.pk, "calls_per_day"): 10,  # won over team A's 50, as on the KPI page
        ("dept", general.pk, "service_level"): 0.8,
        ("dept", general.pk, "qa"): 0.85,
        ("dept", signup.pk, "service_level"): 0.8,
        ("team", team_c.pk, "calls_per_day"): 70,  # no KPI call target above it: the team's own
    }
    assert not new.get_model("agents", "Target").objects.filter(team_id=team_a.pk).exists()
    assert set(
        new.get_model("agents", "Target").objects.values_list("effective_from", flat=True)
    ) == {date(2000, 1, 1)}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
