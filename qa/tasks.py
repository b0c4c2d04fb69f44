"""Celery entry points for QA: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from qa.services.sampling import sample_run_execute


@shared_task(ignore_result=True)
def qa_sample_run(run_id: int) -> None:
    sample_run_execute(run_id=run_id)
