"""The post-call survey moves from kpi to telephony (issue 19): only Django's idea of whose
model it is changes. The table stays kpi_survey with its rows, indexes and constraints;
the content type follows, so permissions and admin history stay with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=target, model="survey").exists():
        ContentType.objects.filter(app_label=source, model="survey").update(app_label=target)


def content_type_to_telephony(apps, schema_editor):
    _move_content_type(apps, "kpi", "telephony")


def content_type_to_kpi(apps, schema_editor):
    _move_content_type(apps, "telephony", "kpi")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # The table was created and shaped by kpi's migrations.
        ("kpi", "0008_verbose_names"),
        ("telephony", "0012_holiday_moves_to_tickets"),
        ("tickets", "0011_customer_event"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Survey",
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
                        (
                            "channel",
                            models.CharField(
                                choices=[("ivr", "Phone (IVR)"), ("sms", "Text message")],
                                max_length=5,
                                verbose_name="channel",
                            ),
                        ),
                        (
                            "call_sid",
                            models.CharField(db_index=True, max_length=34, verbose_name="call SID"),
                        ),
                        (
                            "phone",
                            models.CharField(blank=True, max_length=32, verbose_name="phone"),
                        ),
                        (
                            "opted_in_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="opted in at"),
                        ),
                        (
                            "sent_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="asked at"),
                        ),
                        (
                            "message_sid",
                            models.CharField(blank=True, max_length=34, verbose_name="message SID"),
                        ),
                        (
                            "score",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="satisfaction (1–5)"
                            ),
                        ),
                        (
                            "resolved",
                            models.BooleanField(blank=True, null=True, verbose_name="resolved"),
                        ),
                        (
                            "answered_at",
                            models.DateTimeField(
                                blank=True, db_index=True, null=True, verbose_name="answered at"
                            ),
                        ),
                        (
                            "reply_text",
                            models.CharField(blank=True, max_length=320, verbose_name="reply"),
                        ),
                        (
                            "reply_message_sid",
                            models.CharField(
                                blank=True, max_length=34, verbose_name="reply message SID"
                            ),
                        ),
                        (
                            "clarification_sent_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="clarification sent at"
                            ),
                        ),
                        (
                            "clarified_message_sid",
                            models.CharField(
                                blank=True, max_length=34, verbose_name="clarified message SID"
                            ),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(
                                auto_now=True, db_index=True, verbose_name="updated at"
                            ),
                        ),
                        (
                            "agent",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="surveys",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="agent",
                            ),
                        ),
                        (
                            "call",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="surveys",
                                to="telephony.call",
                                verbose_name="call",
                            ),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="surveys",
                                to="tickets.customer",
                                verbose_name="customer",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "survey",
                        "verbose_name_plural": "surveys",
                        "db_table": "kpi_survey",
                        "ordering": ["-sent_at", "-id"],
                        "indexes": [
                            models.Index(fields=["phone", "sent_at"], name="survey_phone_sent")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("call_sid", "channel"),
                                name="one_survey_per_call_and_channel",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("score__isnull", True),
                                    models.Q(("score__gte", 1), ("score__lte", 5)),
                                    _connector="OR",
                                ),
                                name="survey_score_1_to_5",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_telephony, content_type_to_kpi),
    ]
