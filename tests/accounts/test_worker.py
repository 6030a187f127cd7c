"""Emails go out from a real Celery worker over the broker (Redis in CI), after commit."""

import time

import pytest
from django.core import mail
from django_scopes import scope

from accounts import services
from accounts.models import ActivationToken, Role

pytestmark = pytest.mark.worker


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_activation_email_is_sent_by_the_worker_after_commit(
    celery_worker, district, district_admin
):
    with scope(district=district):
        user = services.user_create(
            district=district,
            actor=district_admin,
            role=Role.TEACHER,
            first_name="Wendy",
            last_name="Worker",
            email="wendy@alpha.example",
        )
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker sent no email"
    assert mail.outbox[0].subject == "Activate your Rollbook account – Alpha District"
    assert wait_for(
        lambda: ActivationToken.objects.filter(user=user, sent_at__isnull=False).exists()
    )


def test_reset_email_is_sent_by_the_worker(celery_worker, district, teacher):
    services.password_reset_request(district=district, identifier=teacher.email)
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker sent no email"
    assert mail.outbox[0].to == [teacher.email]
    assert "/password/reset/" in mail.outbox[0].body
