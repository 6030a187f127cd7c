"""Rostering's Celery tasks: take ids, run in the district's scope, call a service."""

from celery import shared_task

from rostering import emails, services
from rostering.models import RunStatus, SyncRun
from schools.tenancy import TenantTask

# While another sync of the district runs, a queued one waits this long and tries again.
BUSY_RETRY_SECONDS = 30


@shared_task(base=TenantTask, bind=True, max_retries=None)
def execute_sync(self, district_id, run_id):
    run = SyncRun.objects.select_related("connection", "district").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.QUEUED:
        return
    if not services.run_claim(run):
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    services.run_execute(run=run, approved=run.approved_at is not None)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_roster_invitations(district_id, run_id, user_ids):
    from accounts.models import TokenPurpose
    from accounts.services import token_email_deliver

    for user_id in user_ids:
        # One dispatch key per account and run: a retried task mails nobody twice.
        token_email_deliver(
            user_id=user_id,
            purpose=TokenPurpose.ACTIVATE,
            dispatch_key=f"roster-{run_id}-{user_id}",
            actor_id=None,
        )


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_run_alert(district_id, run_id):
    emails.run_alert(run_id=run_id)


@shared_task
def dispatch_due_syncs():
    """Every few minutes: each connection whose schedule has come gets one run."""
    services.runs_dispatch_due()


@shared_task
def resume_stalled_syncs():
    """A run whose worker died stays 'running' and blocks its district: after the stall
    time it is queued again (nothing was applied: the apply is one transaction)."""
    services.runs_resume_stalled()
