"""Celery application.

With REDIS_URL set the broker is Redis. Without it (the embedded first run) the broker is
kombu's SQLAlchemy transport on a SQLite file in var/ (callcenter/broker.py), so a real
worker and beat still run with no service.
The database is always the source of truth: a lost message only delays work, because the
periodic sweep re-routes every queue and expires every deadline from what the rows say.
"""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.local")

app = Celery("callcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data_in_worker_logs(logger, **kwargs) -> None:
    """The worker replaces the root logger's handlers with its own: they get the same PII
    filter as the handlers in LOGGING."""
    from callcenter.logfilter import PiiLogFilter

    for handler in logger.handlers:
        if not any(isinstance(f, PiiLogFilter) for f in handler.filters):
            handler.addFilter(PiiLogFilter())
