"""Fixing and removing rows while reviewing: each change is checked at once, against the
district and against the file's other rows, and audited."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from bulkactions import services
from bulkactions.models import ImportJob, ImportPasswordMode, ImportStatus, RowStatus
from bulkactions.secrets import secret_open
from tests.bulkactions.conftest import rows_by_number

HEADER = "First name,Last name,Email,Year,School"
DUPLICATE_EMAIL = "Row {} of this file also has this email address: each person needs their own"


def _fix(row, actor, **values):
    return services.import_row_fix(row=row, actor=actor, values=values)


def _totals(job):
    job = ImportJob.objects.get(pk=job.pk)
    return job.valid_rows, job.warning_rows, job.error_rows, job.removed_rows


def test_fixing_an_email_makes_the_row_ready_updates_the_totals_and_is_audited(
    run_import, district_admin
):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia(at)alpha.example,Year 7,Alpha High\n"
    )
    assert _totals(job) == (1, 0, 1, 0)
    row = job.rows.get(number=3)

    row = _fix(row, district_admin, email="lia@alpha.example")

    row.refresh_from_db()
    assert row.status == RowStatus.VALID
    assert row.errors == {}
    assert row.values["email"] == "lia@alpha.example"
    assert row.email_key == "lia@alpha.example"
    assert _totals(job) == (2, 0, 0, 0)
    event = AuditEvent.objects.get(action="bulkactions.import.row_fixed")
    assert event.actor == district_admin
    assert (event.target_type, event.target_id) == ("importjob", job.pk)
    assert event.before == {"row": 3, "email": "lia(at)alpha.example"}
    assert event.after == {"row": 3, "email": "lia@alpha.example"}


def test_a_fix_can_bring_new_errors_and_trimming_warnings(run_import, district_admin, student):
    job = run_import(f"{HEADER}\nLia,Chen,lia(at)alpha.example,Year 7,Alpha High\n")
    row = job.rows.get()

    row = _fix(row, district_admin, email=" SUE@alpha.example ", year_group="Year 12")

    assert row.values["email"] == "SUE@alpha.example"
    assert row.warnings == {"email": ["We removed spaces before or after this value"]}
    assert row.errors == {
        "email": [
            "Sue Student (sue.student) already has this email address: to change that "
            "account, import with “Create and update”"
        ],
        "year_group": ["Enter a year group of this district: Year 7, Year 8, Year 9"],
    }
    assert _totals(job) == (0, 0, 1, 0)


def test_fixing_one_duplicate_clears_the_error_on_the_other_row(run_import, district_admin):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,SAM@alpha.example,Year 7,Alpha High\n"
    )
    rows = rows_by_number(job)
    assert rows[2].errors == {"email": [DUPLICATE_EMAIL.format(3)]}
    assert _totals(job) == (0, 0, 2, 0)

    _fix(rows[3], district_admin, email="lia@alpha.example")

    rows = rows_by_number(job)
    assert rows[2].errors == {}
    assert rows[2].status == RowStatus.VALID
    assert rows[3].status == RowStatus.VALID
    assert _totals(job) == (2, 0, 0, 0)


def test_introducing_a_duplicate_marks_both_rows(run_import, district_admin):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia@alpha.example,Year 7,Alpha High\n"
        "Max,Roe,max@alpha.example,Year 7,Alpha High\n"
    )

    _fix(job.rows.get(number=4), district_admin, email="Sam@Alpha.example")

    rows = rows_by_number(job)
    assert rows[2].errors == {"email": [DUPLICATE_EMAIL.format(4)]}
    assert rows[4].errors == {"email": [DUPLICATE_EMAIL.format(2)]}
    assert rows[3].status == RowStatus.VALID
    assert _totals(job) == (1, 0, 2, 0)


def test_a_name_fix_gives_a_generated_username_that_no_other_row_holds(run_import, district_admin):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia@alpha.example,Year 7,Alpha High\n"
    )

    row = _fix(job.rows.get(number=3), district_admin, first_name="Sam", last_name="Okafor")

    assert row.resolved["username"] == "sam.okafor2"
    assert row.status == RowStatus.VALID
    assert rows_by_number(job)[2].status == RowStatus.VALID


def test_removing_a_row_frees_its_duplicate_partner_and_is_audited(run_import, district_admin):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Sam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
    )

    services.import_row_remove(row=job.rows.get(number=3), actor=district_admin)

    rows = rows_by_number(job)
    assert rows[3].status == RowStatus.REMOVED
    assert rows[2].status == RowStatus.VALID
    assert rows[2].errors == {}
    assert _totals(job) == (1, 0, 0, 1)
    event = AuditEvent.objects.get(action="bulkactions.import.row_removed")
    assert (event.actor, event.target_id, event.after) == (district_admin, job.pk, {"row": 3})


def test_with_three_rows_sharing_an_email_removing_one_leaves_the_other_two_marked(
    run_import, district_admin
):
    job = run_import(
        f"{HEADER}\nA,One,x@alpha.example,Year 7,Alpha High\n"
        "B,Two,x@alpha.example,Year 7,Alpha High\n"
        "C,Three,x@alpha.example,Year 7,Alpha High\n"
    )

    services.import_row_remove(row=job.rows.get(number=3), actor=district_admin)

    rows = rows_by_number(job)
    assert rows[2].errors == {"email": [DUPLICATE_EMAIL.format(4)]}
    assert rows[4].errors == {"email": [DUPLICATE_EMAIL.format(2)]}


def test_rows_cannot_be_fixed_or_removed_once_the_import_has_moved_on(
    run_import, commit, district_admin
):
    job = run_import(
        f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "Lia,Chen,lia(at)alpha.example,Year 7,Alpha High\n"
    )
    job = commit(job, skip_errors=True)
    assert job.status == ImportStatus.DONE
    row = job.rows.get(number=3)

    with pytest.raises(ValidationError) as caught:
        _fix(row, district_admin, email="lia@alpha.example")
    assert caught.value.messages == ["This import can no longer be changed"]
    with pytest.raises(ValidationError):
        services.import_row_remove(row=row, actor=district_admin)

    row.refresh_from_db()
    assert row.values["email"] == "lia(at)alpha.example"
    assert row.status == RowStatus.ERROR
    assert not AuditEvent.objects.filter(action__startswith="bulkactions.import.row_").exists()


def test_fields_the_import_does_not_have_are_ignored(run_import, district_admin):
    job = run_import(f"{HEADER}\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n")

    row = _fix(job.rows.get(), district_admin, role="District admin", password="x")

    assert "role" not in row.values
    assert "password" not in row.values
    assert row.status == RowStatus.VALID
    assert not AuditEvent.objects.filter(action="bulkactions.import.row_fixed").exists()


SET_FILE = (
    "First name,Last name,Email,Year,School,Password\n"
    "Sam,Okafor,sam(at)alpha.example,Year 7,Alpha High,password\n"
)


def test_fixing_another_field_keeps_a_weak_password_an_error(run_import, district_admin):
    job = run_import(SET_FILE, password_mode=ImportPasswordMode.SET)

    row = _fix(job.rows.get(), district_admin, email="sam@alpha.example")

    assert row.errors == {
        "password": [
            "Choose a less common password: this one is on a list of passwords people often use"
        ]
    }
    assert row.status == RowStatus.ERROR
    assert _totals(job) == (0, 0, 1, 0)


def test_a_new_password_is_checked_sealed_and_audited_without_its_text(run_import, district_admin):
    job = run_import(SET_FILE, password_mode=ImportPasswordMode.SET)
    row = _fix(job.rows.get(), district_admin, email="sam@alpha.example")

    row = _fix(row, district_admin, password="short")
    assert row.errors == {"password": ["Enter a password with at least 8 characters"]}

    row = _fix(row, district_admin, password="kettle-orbit-97")
    row.refresh_from_db()
    assert row.status == RowStatus.VALID
    assert secret_open(row.secret) == "kettle-orbit-97"
    assert "password" not in row.values
    # A later fix of another field keeps the new password.
    row = _fix(row, district_admin, first_name="Samuel")
    row.refresh_from_db()
    assert row.status == RowStatus.VALID
    assert secret_open(row.secret) == "kettle-orbit-97"
    events = AuditEvent.objects.filter(action="bulkactions.import.row_fixed").order_by("pk")
    assert [e.after for e in events][-2:] == [
        {"row": 2, "password": "changed"},
        {"row": 2, "first_name": "Samuel"},
    ]
    assert not any("kettle" in str(e.before) + str(e.after) for e in events)
