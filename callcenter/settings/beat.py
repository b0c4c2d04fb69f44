"""The periodic sweeps Celery beat runs (base.py's CELERY_BEAT_SCHEDULE). Timers are
deadlines stored in rows and swept here, never long countdowns (STYLE.md); each interval
is a setting read from the one environ.Env() of base.py."""

from datetime import timedelta

import environ


def beat_schedule(env: environ.Env) -> dict:
    return {
        "acd-sweep": {
            "task": "telephony.tasks.acd_sweep",
            "schedule": timedelta(seconds=env.float("ACD_SWEEP_SECONDS", default=2.0)),
            "options": {"expires": 10},
        },
        "kpi-fill": {
            "task": "kpi.tasks.kpi_fill_rollups",
            "schedule": timedelta(seconds=env.float("KPI_FILL_SECONDS", default=30.0)),
            "options": {"expires": 60},
        },
        # Post-call surveys by text message (telephony/services/surveys.py).
        "survey-sms-sweep": {
            "task": "telephony.tasks.surveys_sms_sweep",
            "schedule": timedelta(seconds=env.float("SURVEY_SMS_SWEEP_SECONDS", default=30.0)),
            "options": {"expires": 60},
        },
        # A merge's calls, texts and voicemails follow by event; this catches a lost reaction.
        "merges-follow-sweep": {
            "task": "telephony.tasks.merges_follow_sweep",
            "schedule": timedelta(seconds=env.float("MERGES_FOLLOW_SWEEP_SECONDS", default=300.0)),
            "options": {"expires": 600},
        },
        "tickets-sweep": {
            "task": "tickets.tasks.tickets_sweep",
            "schedule": timedelta(seconds=env.float("TICKETS_SWEEP_SECONDS", default=60.0)),
            "options": {"expires": 120},
        },
        # Data protection (privacy/): the retention purge runs once a day (README "Backups,
        # retention and erasure").
        "retention-purge": {
            "task": "privacy.tasks.retention_purge",
            "schedule": timedelta(hours=env.float("RETENTION_PURGE_HOURS", default=24.0)),
            "options": {"expires": 3600},
        },
    }
