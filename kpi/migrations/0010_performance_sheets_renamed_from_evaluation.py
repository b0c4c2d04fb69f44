"""KPI's monthly evaluation becomes the performance sheet (issue 19), so that "evaluation"
means one thing, QA's. The tables are renamed with their rows; constraint names, the
Korean names shown (평가, 평가 월, 평가 가중치) and the URLs stay."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0010_agentstatus_escalations_only"),
        ("kpi", "0009_survey_moved_to_telephony"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="EvaluationMonth", new_name="PerformanceMonth"),
        migrations.RenameModel(old_name="EvaluationMonthEvent", new_name="PerformanceMonthEvent"),
        migrations.RenameModel(old_name="Evaluation", new_name="PerformanceSheet"),
        migrations.RenameModel(old_name="EvaluationWeight", new_name="PerformanceWeight"),
        migrations.AlterModelOptions(
            name="performancemonth",
            options={
                "ordering": ["-month"],
                "verbose_name": "performance month",
                "verbose_name_plural": "performance months",
            },
        ),
        migrations.AlterModelOptions(
            name="performancesheet",
            options={
                "ordering": ["month", "rank_in_department"],
                "verbose_name": "performance sheet",
                "verbose_name_plural": "performance sheets",
            },
        ),
        migrations.AlterModelOptions(
            name="performanceweight",
            options={
                "verbose_name": "performance weight",
                "verbose_name_plural": "performance weights",
            },
        ),
        migrations.AlterField(
            model_name="performancesheet",
            name="agent",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="performance_sheets",
                to=settings.AUTH_USER_MODEL,
                verbose_name="agent",
            ),
        ),
        migrations.AlterField(
            model_name="performancesheet",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="performance_sheets",
                to="agents.team",
                verbose_name="team",
            ),
        ),
        migrations.AlterField(
            model_name="performancesheet",
            name="department",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="performance_sheets",
                to="agents.department",
                verbose_name="department",
            ),
        ),
        migrations.AlterField(
            model_name="performanceweight",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="performance_weights",
                to="agents.department",
                verbose_name="department",
            ),
        ),
    ]
