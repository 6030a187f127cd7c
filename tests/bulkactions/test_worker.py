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
    settings.IMPORT_COMMIT_THREADS = 2


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
    from bulkactions.importing import commit

    monkeypatch.setattr(commit, "BATCH", 7)  # 60 rows: 9 batches over 2 connections
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
    with scope(district=district):
        services.import_commit(job=job, actor=district_admin)
    assert wait_for(lambda: _status(job, ImportStatus.DONE), seconds=90), "not created"
    job.refresh_from_db()
    assert job.created_count == 60
    assert User.objects.filter(district=district, last_name="Batches").count() == 60
    assert set(job.rows.values_list("outcome", flat=True)) == {"created"}
