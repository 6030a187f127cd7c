"""Import work on the workers. Each task takes ids and the run token of the step it
belongs to; a task whose token is no longer the job's (a resumed or abandoned step)
does nothing, so redelivered and duplicated tasks are harmless."""

import logging

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from bulkactions import emails
from bulkactions.importing import commit, review
from bulkactions.models import ImportJob, ImportStatus
from schools.tenancy import TenantTask, district_scope

log = logging.getLogger(__name__)


def _claim(job_id: int, run_token: str, status: str) -> ImportJob | None:
    jobs = ImportJob.objects.select_related("district", "created_by")
    if status != ImportStatus.VALIDATING:
        jobs = jobs.defer("file_data")  # only validation reads the file
    job = jobs.filter(pk=job_id, run_token=run_token, status=status).first()
    if job is None:
        log.info("import %s: step %s no longer ours, nothing to do", job_id, status)
    return job


@shared_task(base=TenantTask)
def validate_import(district_id, job_id, run_token):
    job = _claim(job_id, run_token, ImportStatus.VALIDATING)
    if job is not None:
        try:
            review.job_validate(job, run_token)
        except review.Superseded:
            log.info("import %s: validation superseded", job_id)


@shared_task(base=TenantTask)
def commit_import(district_id, job_id, run_token):
    job = _claim(job_id, run_token, ImportStatus.COMMITTING)
    if job is None:
        return
    if job.sets_passwords:
        starts = commit.hash_chunk_starts(job)
        if starts:
            for first_number in starts:
                hash_import_passwords.delay(district_id, job_id, run_token, first_number)
            return  # the chunk that hashes the last password starts this task again
    try:
        commit.job_commit(job, run_token)
    except review.Superseded:
        log.info("import %s: commit superseded", job_id)


@shared_task(base=TenantTask)
def hash_import_passwords(district_id, job_id, run_token, first_number):
    job = _claim(job_id, run_token, ImportStatus.COMMITTING)
    if job is None:
        return
    commit.passwords_hash_chunk(job, first_number)
    review.heartbeat(job, run_token)
    if not commit.rows_needing_hash(job).exists():
        commit_import.delay(district_id, job_id, run_token)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_import_invitations(district_id, job_id, user_ids):
    from accounts.models import TokenPurpose
    from accounts.services import token_email_deliver

    job = ImportJob.objects.filter(pk=job_id).first()
    actor_id = job.created_by_id if job else None
    for user_id in user_ids:
        # One dispatch key per account and import: a retried task mails nobody twice.
        token_email_deliver(
            user_id=user_id,
            purpose=TokenPurpose.ACTIVATE,
            dispatch_key=f"import-{job_id}-{user_id}",
            actor_id=actor_id,
        )


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_import_summary(district_id, job_id):
    emails.import_summary(job_id=job_id)


@shared_task
def resume_stalled_imports():
    """Every few minutes: a running import whose worker stopped is started again."""
    from bulkactions.services import import_is_stalled, import_resume

    with scopes_disabled():
        running = list(
            ImportJob.objects.filter(
                status__in=(ImportStatus.VALIDATING, ImportStatus.COMMITTING)
            ).values_list("pk", "district_id")
        )
    for job_id, district_id in running:
        with district_scope(district_id):
            job = ImportJob.objects.get(pk=job_id)
            if import_is_stalled(job):
                import_resume(job=job, actor=None)


@shared_task
def purge_expired_credentials():
    from bulkactions.services import credentials_purge

    with scopes_disabled():
        expired = list(
            ImportJob.objects.filter(credentials_expire_at__lt=timezone.now())
            .filter(rows__secret__gt="")
            .distinct()
            .values_list("pk", "district_id")
        )
    for job_id, district_id in expired:
        with district_scope(district_id):
            credentials_purge(job=ImportJob.objects.get(pk=job_id))
    # Passwords a bulk action set: gone once its credentials page has expired too.
    from datetime import timedelta

    from django.conf import settings

    from bulkactions.models import BulkActionItem

    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_CREDENTIALS_HOURS)
    with scopes_disabled():
        BulkActionItem.objects.filter(
            bulk_action__finished_at__lt=cutoff, bulk_action__action="reset_password"
        ).exclude(secret="").update(secret="")


@shared_task(base=TenantTask)
def run_bulk_action(district_id, bulk_action_id, run_token):
    from bulkactions.models import BulkAction
    from bulkactions.operations.run import Superseded
    from bulkactions.services import bulk_action_run

    bulk_action = (
        BulkAction.objects.select_related("district", "created_by")
        .filter(pk=bulk_action_id, run_token=run_token)
        .first()
    )
    if bulk_action is None:
        return
    try:
        bulk_action_run(bulk_action, run_token)
    except Superseded:
        log.info("bulk action %s: run superseded", bulk_action_id)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_bulk_action_summary(district_id, bulk_action_id):
    emails.bulk_action_summary(bulk_action_id=bulk_action_id)


@shared_task
def resume_stalled_bulk_actions():
    """Every few minutes: a bulk action whose worker stopped carries on with a new run
    token (the items it finished keep their results)."""
    import uuid
    from datetime import timedelta

    from django.conf import settings

    from bulkactions.models import BulkAction, BulkActionStatus

    limit = timezone.now() - timedelta(minutes=settings.IMPORT_STALL_MINUTES)
    with scopes_disabled():
        stalled = list(
            BulkAction.objects.filter(
                status__in=(BulkActionStatus.QUEUED, BulkActionStatus.RUNNING),
                heartbeat_at__lt=limit,
            ).values_list("pk", "district_id")
        )
    for action_id, district_id in stalled:
        token = uuid.uuid4().hex
        with district_scope(district_id):
            if BulkAction.objects.filter(pk=action_id, heartbeat_at__lt=limit).update(
                run_token=token, heartbeat_at=timezone.now()
            ):
                run_bulk_action.delay(district_id, action_id, token)
