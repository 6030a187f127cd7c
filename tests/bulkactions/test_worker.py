"""Imports on a real Celery worker over Redis (CI): validation, hashing tasks spread over
the queue, batched creation, emails; and a stalled step resumed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from accounts.models import User
from bulkactions import services
from bulkactions.models import ImportJob, ImportStatus
from tests.accounts.test_worker import wait_for

pytestmark = pytest.mark.worker

FILE = "First name,Last name,Year,School,Password\n" + "".join(
    f"Pupil{n},Worker,Year 7,Alpha High,{'' if n % 2 else 'Correct-Horse-' + str(n)}\n"
    for n in range(30)
)


@pytest.fixture(autouse=True)
def _parallel_commit(settings):
    """These tests commit for real, so the commit may write on two connections, as in
    production."""
    settings.BULK_WRITE_THREADS = 2


def _status(job, *statuses):
    return ImportJob.objects.filter(pk=job.pk, status__in=statuses).exists()


def test_worker_checks_the_file_then_hashes_and_creates_the_accounts(
    celery_worker, district, district_admin, years, school
):
    with scope(district=district):
        job = services.import_start(
            district=district,
            actor=district_admin,
            kind="students",
            password_mode="set",
            file_name="worker.csv",
            data=FILE.encode(),
        )
    assert wait_for(lambda: _status(job, ImportStatus.REVIEW), seconds=60), "not validated"
    job.refresh_from_db()
    assert job.valid_rows == 30
    with scope(district=district):
        services.import_commit(job=job, actor=district_admin)
    assert wait_for(lambda: _status(job, ImportStatus.DONE), seconds=90), "not created"
    students = User.objects.filter(district=district, last_name="Worker")
    assert students.count() == 30
    assert students.get(first_name="Pupil0").check_password("Correct-Horse-0")
    assert all(s.must_change_password for s in students)
    assert wait_for(lambda: any(m.subject.startswith("Import finished") for m in mail.outbox))


def test_a_stalled_validation_is_resumed_and_completes(
    celery_worker, district, district_admin, years, school, settings
):
    with scope(district=district):
        job = services.import_start(
            district=district,
            actor=district_admin,
            kind="students",
            password_mode="set",
            file_name="stalled.csv",
            data=FILE.encode(),
            enqueue=False,  # as if the worker died before it took the task
        )
    assert not services.import_is_stalled(job)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=settings.IMPORT_STALL_MINUTES + 1)
    )
    from bulkactions.tasks import resume_stalled_imports

    resume_stalled_imports()
    assert wait_for(lambda: _status(job, ImportStatus.REVIEW), seconds=60), "not resumed"
    assert ImportJob.objects.get(pk=job.pk).valid_rows == 30


def test_batches_written_on_two_connections_create_each_account_once(
    celery_worker, district, district_admin, years, school, monkeypatch
):
    from bulkactions.importing import commit, review

    monkeypatch.setattr(commit, "BATCH", 7)  # 60 rows: 9 batches over 2 connections
    monkeypatch.setattr(review, "BATCH", 7)  # and 9 stored by the write-behind thread
    text = "First name,Last name,Email,Year,School\n" + "".join(
        f"Many{n},Batches,many{n}@alpha.example,Year 7,Alpha High\n" for n in range(60)
    )
    with scope(district=district):
        job = services.import_start(
            district=district,
            actor=district_admin,
            kind="students",
            file_name="batches.csv",
            data=text.encode(),
        )
    assert wait_for(lambda: _status(job, ImportStatus.REVIEW), seconds=60), "not validated"
    job.refresh_from_db()
    assert (job.total_rows, job.processed_rows, job.valid_rows) == (60, 60, 60)
    stored = list(job.rows.order_by("number").values_list("number", "values__first_name"))
    assert stored == [(n + 2, f"Many{n}") for n in range(60)]
    with scope(district=district):
        services.import_commit(job=job, actor=district_admin)
    assert wait_for(lambda: _status(job, ImportStatus.DONE), seconds=90), "not created"
    job.refresh_from_db()
    assert job.created_count == 60
    assert User.objects.filter(district=district, last_name="Batches").count() == 60
    assert set(job.rows.values_list("outcome", flat=True)) == {"created"}


def test_a_bulk_action_written_on_two_connections_changes_each_person_once(
    celery_worker, district, district_admin, years, school, monkeypatch
):
    """Batches on two connections at once, as in production: every student moves once,
    with one item and one audit event each, and the counts add up."""
    from accounts.models import AuditEvent, Role
    from bulkactions.models import BulkAction, BulkActionStatus, ItemOutcome
    from bulkactions.operations import run as runner
    from tests.factories import UserFactory

    monkeypatch.setattr(runner, "BATCH", 4)  # 25 people: 8 batches over 2 connections
    year7, year8 = years[7], years[8]
    for n in range(25):
        UserFactory(district=district, role=Role.STUDENT, year_group=year7, username=f"two{n}")
    UserFactory(district=district, role=Role.STUDENT, year_group=year8, username="already")
    with scope(district=district):
        action = services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="students",
            action="year_group",
            params={"year_group": year8.pk},
            users=User.objects.filter(district=district, role=Role.STUDENT),
        )
    finished = BulkAction.objects.filter(pk=action.pk, status=BulkActionStatus.DONE)
    assert wait_for(finished.exists, seconds=60), "not finished"
    action.refresh_from_db()
    assert (action.changed_count, action.skipped_count, action.failed_count) == (25, 1, 0)
    assert User.objects.filter(district=district, year_group=year8).count() == 26
    outcomes = list(action.items.values_list("outcome", flat=True))
    assert sorted(outcomes) == [ItemOutcome.CHANGED] * 25 + [ItemOutcome.SKIPPED]
    assert (
        action.items.filter(outcome=ItemOutcome.CHANGED, before__year_group_id=year7.pk).count()
        == 25
    )
    assert AuditEvent.objects.filter(after__bulk_action=action.pk).count() == 25
