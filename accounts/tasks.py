"""Background work for accounts: sending emails after commit, housekeeping."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts import emails, services
from accounts.models import LoginEvent
from schools.tenancy import TenantTask


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_token_email(district_id, user_id, purpose, dispatch_key, actor_id):
    services.token_email_deliver(
        user_id=user_id, purpose=purpose, dispatch_key=dispatch_key, actor_id=actor_id
    )


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_changed_email(district_id, user_id):
    emails.password_changed(user_id=user_id)


@shared_task
def purge_old_login_events(days: int = 90):
    """Sign-in records older than this are not needed for throttling or statistics."""
    with scopes_disabled():
        LoginEvent.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()


@shared_task
def send_due_reminders():
    """Nightly: one task per district that has automatic reminders on."""
    from schools.models import District

    with scopes_disabled():
        ids = list(District.objects.filter(reminder_after_days__gt=0).values_list("pk", flat=True))
    for district_id in ids:
        send_district_reminders.delay(district_id)


@shared_task(base=TenantTask)
def send_district_reminders(district_id):
    from schools.models import District

    services.reminders_send_due(district=District.objects.get(pk=district_id))
