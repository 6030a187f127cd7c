"""Creating and updating accounts from a reviewed import: outcomes, audit, passwords,
emails, credentials, and a commit that stops half-way and is carried on."""

import math
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, PasswordMode, Role, Status, User
from bulkactions import services
from bulkactions.importing import commit as commit_module
from bulkactions.importing import commit_sql, review
from bulkactions.importing.results import credentials, results_csv
from bulkactions.importing.slips import slips_pdf
from bulkactions.models import (
    ImportJob,
    ImportMode,
    ImportPasswordMode,
    ImportStatus,
    RowOutcome,
    RowStatus,
)
from bulkactions.tasks import purge_expired_credentials
from tests.bulkactions.conftest import rows_by_number
from tests.factories import UserFactory

HEADER = "First name,Last name,Email,Year,School"


def people(n: int, start: int = 0) -> str:
    return (
        "\n".join(
            [HEADER]
            + [f"P{i},Lee,p{i}@alpha.example,Year 7,Alpha High" for i in range(start, start + n)]
        )
        + "\n"
    )


def activation_emails(mailoutbox) -> list[str]:
    return sorted(m.to[0] for m in mailoutbox if m.subject.startswith("Activate"))


def summary_email(mailoutbox):
    (summary,) = [m for m in mailoutbox if m.subject.startswith("Import finished")]
    return summary


# Create only


def test_rows_with_errors_block_the_commit_until_skipped(run_import, commit, district):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia(at)alpha.example,Year 7,Alpha High\n"
    )

    with pytest.raises(ValidationError) as caught:
        commit(job)
    assert caught.value.messages == ["1 row has errors: fix or remove it, or choose to skip it"]
    assert not User.objects.filter(district=district, role=Role.STUDENT).exists()
    assert not AuditEvent.objects.filter(action="bulkactions.import.commit_started").exists()

    job = commit(job, skip_errors=True)
    assert (job.status, job.created_count, job.skipped_count) == (ImportStatus.DONE, 1, 1)
    rows = rows_by_number(job)
    assert (rows[2].outcome, rows[3].outcome) == (RowOutcome.CREATED, RowOutcome.SKIPPED)
    assert rows[2].user.email == "sam@alpha.example"
    assert not User.objects.filter(email__startswith="lia").exists()
    started = AuditEvent.objects.get(action="bulkactions.import.commit_started")
    assert (started.actor, started.after) == (job.created_by, {"rows": 1, "skipping": 1})
    event = AuditEvent.objects.get(action="bulkactions.import.committed")
    assert event.after["created"] == 1
    assert event.after["skipped"] == 1


def test_a_job_without_ready_rows_cannot_be_committed(run_import, commit):
    job = run_import(f"{HEADER}\nLia,Chen,lia(at)alpha.example,Year 7,Alpha High\n")

    with pytest.raises(ValidationError) as caught:
        commit(job, skip_errors=True)
    assert caught.value.messages == ["No row is ready: fix the errors first"]


def test_create_mode_never_changes_an_existing_account(run_import, commit, student):
    job = run_import(
        f"{HEADER}\nSue,Stone,sue@alpha.example,Year 8,Alpha High\n"
        "Sam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
    )
    job = commit(job, skip_errors=True)

    student.refresh_from_db()
    assert student.last_name == "Student"
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 0, 1)
    assert not AuditEvent.objects.filter(action="accounts.user.updated").exists()


def test_an_account_made_after_the_review_fails_its_row_with_the_reason(
    run_import, commit, district
):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia@alpha.example,Year 7,Alpha High\n"
    )
    UserFactory(district=district, role=Role.STUDENT, username="s.o", email="SAM@alpha.example")

    job = commit(job)

    rows = rows_by_number(job)
    assert rows[2].outcome == RowOutcome.FAILED
    assert rows[2].outcome_message == "Another account got this email address after the review"
    assert rows[3].outcome == RowOutcome.CREATED
    assert (job.created_count, job.failed_count) == (1, 1)


def test_rows_without_email_are_not_failed_by_a_new_account_without_email(
    run_import, commit, district
):
    """A username taken after the review moves a generated username on; it must not fail
    every row whose email is empty, like the new account's."""
    job = run_import(
        "First name,Last name,Year,School\nSam,Okafor,Year 7,Alpha High\nLia,Chen,Year 7,Alpha High\n",
        password_mode=ImportPasswordMode.SET,
    )
    UserFactory(district=district, role=Role.STUDENT, username="sam.okafor", email="")

    job = commit(job)

    rows = rows_by_number(job)
    assert [rows[2].outcome, rows[3].outcome] == [RowOutcome.CREATED, RowOutcome.CREATED]
    assert rows[2].user.username == "sam.okafor2"
    assert rows[3].user.username == "lia.chen"
    assert job.failed_count == 0


# Update mode


@pytest.fixture
def existing(district, school, years):
    def make(username, first, last, email, year=7, sis_id=""):
        user = UserFactory(
            district=district,
            role=Role.STUDENT,
            username=username,
            first_name=first,
            last_name=last,
            email=email,
            sis_id=sis_id,
            year_group=years[year],
        )
        user.set_schools([school])
        return user

    return {
        "sue": make("sue.student", "Sue", "Student", "sue@alpha.example", sis_id="S-1"),
        "ray": make("ray.roe", "Ray", "Roe", "ray@alpha.example"),
        "kim": make("kim.lee", "Kim", "Lee", ""),
        "una": make("una.chang", "Una", "Chang", "una@alpha.example"),
    }


UPDATE_FILE = (
    "First name,Last name,Email,Year,School,Username,Student ID\n"
    "Sue,Student,sue.new@alpha.example,Year 8,Alpha High,,S-1\n"
    "Ray,Roe-Smith,ray@alpha.example,Year 7,Alpha High,,\n"
    "Kim,Lee,kim@alpha.example,Year 7,Alpha High,kim.lee,\n"
    "Una,Chang,una@alpha.example,7,Alpha High,,\n"
    "New,Person,new@alpha.example,Year 7,Alpha High,,\n"
)


def test_update_mode_matches_by_sis_id_then_email_then_username_and_shows_changes(
    run_import, existing
):
    job = run_import(UPDATE_FILE, mode=ImportMode.UPDATE)

    rows = rows_by_number(job)
    assert all(row.status == RowStatus.VALID for row in rows.values()), {
        n: r.errors for n, r in rows.items()
    }
    assert rows[2].resolved["user_id"] == existing["sue"].pk
    assert rows[2].resolved["changes"] == {
        "email": ["sue@alpha.example", "sue.new@alpha.example"],
        "year_group": ["Year 7", "Year 8"],
    }
    assert rows[3].resolved["user_id"] == existing["ray"].pk
    assert rows[3].resolved["changes"] == {"last_name": ["Roe", "Roe-Smith"]}
    assert rows[4].resolved["user_id"] == existing["kim"].pk
    assert rows[4].resolved["changes"] == {"email": ["", "kim@alpha.example"]}
    assert rows[5].resolved["user_id"] == existing["una"].pk
    assert rows[5].resolved["changes"] == {}
    assert "user_id" not in rows[6].resolved


def test_update_mode_commit_updates_audits_and_reports_unchanged_rows(
    run_import, commit, existing, district_admin, mailoutbox
):
    job = commit(run_import(UPDATE_FILE, mode=ImportMode.UPDATE))

    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 3, 1)
    rows = rows_by_number(job)
    assert [rows[n].outcome for n in range(2, 7)] == [
        RowOutcome.UPDATED,
        RowOutcome.UPDATED,
        RowOutcome.UPDATED,
        RowOutcome.UNCHANGED,
        RowOutcome.CREATED,
    ]
    sue = User.objects.get(pk=existing["sue"].pk)
    assert (sue.email, sue.year_group.name, sue.username) == (
        "sue.new@alpha.example",
        "Year 8",
        "sue.student",
    )
    assert User.objects.get(pk=existing["ray"].pk).last_name == "Roe-Smith"
    event = AuditEvent.objects.get(action="accounts.user.updated", target_id=sue.pk)
    assert event.actor == district_admin
    assert event.before == {"email": "sue@alpha.example", "year_group": "Year 7"}
    assert event.after == {
        "email": "sue.new@alpha.example",
        "year_group": "Year 8",
        "import": job.pk,
    }
    assert AuditEvent.objects.filter(action="accounts.user.updated").count() == 3
    assert not AuditEvent.objects.filter(target_id=existing["una"].pk).exists()
    # Only the new account is invited; updated accounts keep how they sign in.
    assert activation_emails(mailoutbox) == ["new@alpha.example"]
    body = summary_email(mailoutbox).body
    assert "Created: 1\nUpdated: 3\nUnchanged: 1\nSkipped: 0\nFailed: 0" in body


def test_update_row_naming_two_different_accounts_is_an_error(run_import, existing):
    job = run_import(
        "First name,Last name,Email,Year,School,Student ID\n"
        "Sue,Student,ray@alpha.example,Year 7,Alpha High,S-1\n",
        mode=ImportMode.UPDATE,
    )

    assert job.rows.get().errors == {
        "email": ["Another account, Ray Roe (ray.roe), already has this email address"]
    }


def test_a_staff_file_cannot_update_a_student(run_import, existing):
    job = run_import(
        "First name,Last name,Email,Role\nSue,Student,sue@alpha.example,Teacher\n",
        kind="staff",
        mode=ImportMode.UPDATE,
    )

    assert job.rows.get().errors == {
        "_row": [
            "This row matches a student account, Sue Student (sue.student): students and "
            "staff are imported separately"
        ]
    }


# Abandon


def test_abandoning_writes_nothing_deletes_the_rows_and_is_audited(
    run_import, district, district_admin
):
    job = run_import(people(2))

    job = services.import_abandon(job=job, actor=district_admin)

    job.refresh_from_db()
    assert job.status == ImportStatus.ABANDONED
    assert bytes(job.file_data) == b""
    assert not job.rows.exists()
    assert not User.objects.filter(district=district, role=Role.STUDENT).exists()
    assert AuditEvent.objects.filter(
        action="bulkactions.import.abandoned", target_id=job.pk, actor=district_admin
    ).exists()


def test_a_committed_import_cannot_be_abandoned(run_import, commit, district_admin):
    job = commit(run_import(people(1)))

    with pytest.raises(ValidationError) as caught:
        services.import_abandon(job=job, actor=district_admin)
    assert caught.value.messages == [
        "Accounts are already being created: this import cannot be abandoned"
    ]
    assert job.rows.count() == 1


# Retries and crashes


def test_running_the_commit_again_with_the_same_run_creates_nothing_twice(
    run_import, commit, district, django_capture_on_commit_callbacks, mailoutbox
):
    job = commit(run_import(people(3)))
    counts = (job.created_count, job.skipped_count, job.failed_count)

    with django_capture_on_commit_callbacks(execute=True):
        commit_module.job_commit(job, job.run_token)

    job.refresh_from_db()
    assert (job.created_count, job.skipped_count, job.failed_count) == counts == (3, 0, 0)
    assert User.objects.filter(district=district, role=Role.STUDENT).count() == 3
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == 3
    assert len(activation_emails(mailoutbox)) == 3
    assert AuditEvent.objects.filter(action="bulkactions.import.committed").count() == 1


def test_a_run_whose_token_was_replaced_stops_without_writing(run_import, district):
    # Not enqueued: the test plays the worker.
    job = services.import_commit(job=run_import(people(2)), actor=None, enqueue=False)

    with pytest.raises(review.Superseded):
        commit_module.job_commit(job, "an-older-run")
    assert not User.objects.filter(district=district, role=Role.STUDENT).exists()


def _stale(job, settings):
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=settings.IMPORT_STALL_MINUTES + 1)
    )
    return ImportJob.objects.get(pk=job.pk)


@pytest.mark.django_db(transaction=True)  # each batch really commits, as on a worker
def test_a_commit_that_stops_half_way_is_carried_on_and_creates_each_account_once(
    run_import, commit, district, district_admin, monkeypatch, settings, mailoutbox
):
    job = run_import(people(5))
    monkeypatch.setattr(commit_module, "BATCH", 2)
    calls = []

    def then_die(real):
        # The second batch dies, on either path: SQL on PostgreSQL, Python on SQLite.
        def create(*args):
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("worker lost")
            return real(*args)

        return create

    monkeypatch.setattr(commit_module, "_create", then_die(commit_module._create))
    monkeypatch.setattr(commit_sql, "create_rows", then_die(commit_sql.create_rows))
    with pytest.raises(RuntimeError):
        commit(job)

    job.refresh_from_db()
    assert job.status == ImportStatus.COMMITTING
    assert job.finished_at is None
    assert job.created_count == 2
    assert User.objects.filter(district=district, role=Role.STUDENT).count() == 2
    # The first batch's accounts were invited when it committed; nothing is finished.
    assert activation_emails(mailoutbox) == ["p0@alpha.example", "p1@alpha.example"]
    assert not [m for m in mailoutbox if m.subject.startswith("Import finished")]
    # Not stalled yet: resuming does nothing.
    token = job.run_token
    assert services.import_resume(job=job, actor=district_admin).run_token == token

    services.import_resume(job=_stale(job, settings), actor=district_admin)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.created_count == 5
    students = User.objects.filter(district=district, role=Role.STUDENT)
    assert sorted(students.values_list("email", flat=True)) == [
        f"p{i}@alpha.example" for i in range(5)
    ]
    assert set(job.rows.values_list("outcome", flat=True)) == {RowOutcome.CREATED}
    assert len(set(job.rows.values_list("user", flat=True))) == 5
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == 5
    assert AuditEvent.objects.filter(
        action="bulkactions.import.resumed", target_id=job.pk, after={"step": "committing"}
    ).exists()
    assert len(activation_emails(mailoutbox)) == 5
    assert "Created: 5" in summary_email(mailoutbox).body


def test_a_validation_that_stops_half_way_starts_over_and_is_complete(
    run_import, district_admin, monkeypatch, settings, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(review, "BATCH", 1)
    real_check = review.row_check
    calls = []

    def check_then_die(check, index, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real_check(check, index, **kwargs)

    monkeypatch.setattr(review, "row_check", check_then_die)
    with pytest.raises(RuntimeError):
        run_import(people(4))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.VALIDATING
    assert job.rows.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.import_resume(job=_stale(job, settings), actor=district_admin)

    job.refresh_from_db()
    assert job.status == ImportStatus.REVIEW
    assert (job.total_rows, job.processed_rows, job.valid_rows) == (4, 4, 4)
    assert list(job.rows.values_list("number", flat=True)) == [2, 3, 4, 5]


# Teacher-set passwords

SET_FILE = (
    "First name,Last name,Email,Year,School,Password\n"
    "Sam,Okafor,sam@alpha.example,Year 7,Alpha High,kettle-orbit-97\n"
    "Lia,Chen,,Year 7,Alpha High,\n"
    "Max,Roe,max@alpha.example,Year 7,Alpha High,\n"
)


def test_set_passwords_are_hashed_generated_where_empty_and_must_be_changed(
    run_import, commit, district, monkeypatch, mailoutbox
):
    monkeypatch.setattr(commit_module, "HASH_CHUNK", 2)  # several hashing tasks
    job = commit(run_import(SET_FILE, password_mode=ImportPasswordMode.SET))

    assert (job.status, job.created_count) == (ImportStatus.DONE, 3)
    sam = User.objects.get(district=district, username="sam.okafor")
    assert sam.check_password("kettle-orbit-97")
    assert (sam.status, sam.password_mode, sam.must_change_password) == (
        Status.ACTIVE,
        PasswordMode.STAFF,
        True,
    )
    given = {c["username"]: c for c in credentials(job)}
    assert set(given) == {"sam.okafor", "lia.chen", "max.roe"}
    assert given["sam.okafor"]["password"] == "kettle-orbit-97"
    assert given["lia.chen"]["year_group"] == "Year 7"
    for username in ("lia.chen", "max.roe"):
        generated = given[username]["password"]
        assert len(generated) >= district.password_min_length
        assert User.objects.get(username=username).check_password(generated)
    assert given["lia.chen"]["password"] != given["max.roe"]["password"]
    # The teacher hands out the passwords: nobody gets an activation email.
    assert activation_emails(mailoutbox) == []


def test_students_of_an_exempt_district_keep_the_password_they_are_given(
    run_import, commit, district
):
    district.students_exempt_from_password_change = True
    district.save()

    commit(run_import(SET_FILE, password_mode=ImportPasswordMode.SET))

    assert not User.objects.get(username="sam.okafor").must_change_password


def test_summary_email_of_a_set_password_import_links_the_credentials_and_holds_no_password(
    run_import, commit, mailoutbox
):
    job = commit(run_import(SET_FILE, password_mode=ImportPasswordMode.SET))

    summary = summary_email(mailoutbox)
    html = summary.alternatives[0][0]
    link = f"/settings/imports/{job.pk}/credentials/"
    assert link in summary.body
    assert link in html
    (name, content, mimetype) = summary.attachments[0]
    everything = summary.body + html + summary.subject + content.lstrip("\ufeff")
    for c in credentials(job):
        assert c["password"] not in everything
    assert "Password" not in content.lstrip("\ufeff")


def test_summary_email_lists_counts_problems_and_created_usernames(run_import, commit, mailoutbox):
    job = commit(
        run_import(
            f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
            "Lia,Chen,lia(at)alpha.example,Year 7,Alpha High\n"
            "Max,Roe,max@alpha.example,Year 12,Alpha High\n"
        ),
        skip_errors=True,
    )

    summary = summary_email(mailoutbox)
    assert summary.to == ["ada@alpha.example"]
    assert summary.subject == "Import finished: 1 account created – Alpha District"
    body = summary.body
    assert "Your import of people.csv (students) has finished." in body
    assert "Created: 1\nSkipped: 2\nFailed: 0" in body
    assert (
        "- Row 3 (skipped): Enter an email address in the correct format, like name@school.org"
        in body
    )
    assert "- Row 4 (skipped): Enter a year group of this district: Year 7, Year 8, Year 9" in body
    assert "Each new account with an email address gets an email to activate it." in body
    assert "/credentials/" not in body + summary.alternatives[0][0]
    assert f"/settings/imports/{job.pk}/" in body
    ((name, content, mimetype),) = summary.attachments
    assert (name, mimetype) == (f"import-{job.pk}-created-accounts.csv", "text/csv")
    lines = content.lstrip("\ufeff").splitlines()
    assert lines == [
        "Row,Outcome,First name,Last name,Username,Email,Message",
        "2,Created,Sam,Okafor,sam.okafor,sam@alpha.example,",
    ]


def test_staff_imports_invite_each_new_account_once(run_import, commit, mailoutbox):
    commit(
        run_import(
            "First name,Last name,Email,Role,School\n"
            "Ana,Díaz,ana@alpha.example,Teacher,Alpha High\n"
            "Ben,Ode,ben@alpha.example,District admin,\n",
            kind="staff",
        )
    )

    assert activation_emails(mailoutbox) == ["ana@alpha.example", "ben@alpha.example"]
    ben = User.objects.get(email="ben@alpha.example")
    assert (ben.role, ben.status) == (Role.DISTRICT_ADMIN, Status.INVITED)


def test_purging_credentials_forgets_the_passwords(run_import, commit):
    job = commit(run_import(SET_FILE, password_mode=ImportPasswordMode.SET))
    assert job.has_credentials

    assert services.credentials_purge(job=job) == 3

    assert credentials(job) == []
    assert not job.rows.exclude(secret="").exists()
    # The accounts keep their passwords.
    assert User.objects.get(username="sam.okafor").check_password("kettle-orbit-97")


def test_expired_credentials_are_purged_by_the_periodic_task(run_import, commit):
    expired = commit(run_import(SET_FILE, password_mode=ImportPasswordMode.SET))
    ImportJob.objects.filter(pk=expired.pk).update(
        credentials_expire_at=timezone.now() - timedelta(minutes=1)
    )
    current = commit(
        run_import(
            "First name,Last name,Year,School\nZoë,Ng,Year 7,Alpha High\n",
            password_mode=ImportPasswordMode.SET,
        )
    )

    purge_expired_credentials()

    assert credentials(expired) == []
    assert [c["username"] for c in credentials(current)] == ["zoe.ng"]


# Printable slips


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


@pytest.mark.parametrize("n", [8, 17])
def test_slips_put_eight_people_on_each_page(district, n):
    person = {
        "first_name": "Sam",
        "last_name": "Okafor",
        "username": "sam.okafor",
        "password": "kettle-orbit-97",
        "year_group": "Year 7",
        "classes": "7A",
    }

    pdf = slips_pdf(district=district, people=[person] * n, must_change=True)

    assert pdf.startswith(b"%PDF")
    assert _page_count(pdf) == math.ceil(n / 8)


def test_slips_print_names_in_any_alphabet(run_import, commit, district):
    job = commit(
        run_import(
            "First name,Last name,Year,School\n"
            "Thảo,Nguyễn,Year 7,Alpha High\n"
            "Kateřina,Dvořák,Year 7,Alpha High\n"
            "Zoë,Ng,Year 8,Alpha High\n",
            password_mode=ImportPasswordMode.SET,
        )
    )

    pdf = slips_pdf(district=district, people=credentials(job), must_change=True)

    assert pdf.startswith(b"%PDF")
    assert _page_count(pdf) == 1
    # The embedded font maps each letter, so none prints as a missing glyph.
    for code in ("1EA3", "1EC5", "0159", "00EB"):  # ả ễ ř ë
        assert f"<{code}>".encode() in pdf


def test_slips_without_people_say_so(district):
    pdf = slips_pdf(district=district, people=[], must_change=False)

    assert pdf.startswith(b"%PDF")
    assert _page_count(pdf) == 1


def test_deleting_an_imported_account_removes_its_data_from_the_import_rows(
    run_import, commit, district, district_admin
):
    from accounts.services import user_deactivate, user_delete

    job = run_import(
        "First name,Last name,Email,Year,School\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
    )
    job = commit(job)
    sam = User.objects.get(district=district, email="sam@alpha.example")
    user_deactivate(user=sam, actor=district_admin)
    user_delete(user=User.objects.get(pk=sam.pk), actor=district_admin)
    row = job.rows.get(number=2)
    assert row.values == {} and row.resolved == {} and row.email_key == ""
    assert "Okafor" not in results_csv(job).decode("utf-8-sig")
