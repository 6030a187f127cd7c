"""Matching a file's column names to fields: synonyms, other systems' exports, the
admin's own choices remembered for the next file."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from bulkactions import services
from bulkactions.importing.columns import columns_match
from bulkactions.models import (
    ImportJob,
    ImportKind,
    ImportMapping,
    ImportPasswordMode,
    ImportStatus,
    RowStatus,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("first name", "first_name"),
        ("FIRST NAME", "first_name"),
        ("  First-Name. ", "first_name"),
        ("first_name", "first_name"),
        ("Given name", "first_name"),
        ("Surname", "last_name"),
        ("Family Name", "last_name"),
        ("E-mail", "email"),
        ("E-Mail Address", "email"),
        ("Grade", "year_group"),
        ("Year group", "year_group"),
        ("School name", "schools"),
        ("Classes", "classrooms"),
        ("User name", "username"),
        ("SIS ID", "sis_id"),
        ("First Name [Required]", "first_name"),
        ("Email Address [Required]", "email"),
        ("Employee ID", "sis_id"),
        ("Student_id", "sis_id"),
        ("First_name", "first_name"),
        ("Last_name", "last_name"),
        ("Student_email", "email"),
        ("givenName", "first_name"),
        ("familyName", "last_name"),
    ],
)
def test_header_is_matched_whatever_its_case_spacing_punctuation_or_source(header, field):
    mapping = columns_match(
        ["Notes", header], kind=ImportKind.STUDENTS, password_mode=ImportPasswordMode.EMAIL
    )
    assert mapping == {"1": field}


def test_password_column_is_matched_only_when_the_import_sets_passwords():
    header = ["First name", "Password"]
    assert columns_match(
        header, kind=ImportKind.STUDENTS, password_mode=ImportPasswordMode.SET
    ) == {"0": "first_name", "1": "password"}
    assert columns_match(
        header, kind=ImportKind.STUDENTS, password_mode=ImportPasswordMode.EMAIL
    ) == {"0": "first_name"}


def test_a_field_is_matched_once_the_first_column_wins():
    mapping = columns_match(
        ["Email", "Work email", "Student ID", "Student number"],
        kind=ImportKind.STUDENTS,
        password_mode=ImportPasswordMode.EMAIL,
    )
    assert mapping == {"0": "email", "2": "sis_id"}


def test_students_only_fields_are_not_matched_in_a_staff_file():
    mapping = columns_match(
        ["First name", "Grade", "Classes", "Role"],
        kind=ImportKind.STAFF,
        password_mode=ImportPasswordMode.EMAIL,
    )
    assert mapping == {"0": "first_name", "3": "role"}


def test_google_admin_staff_export_goes_straight_to_review(run_import, district):
    text = (
        "First Name [Required],Last Name [Required],Email Address [Required],"
        "Password [Required],Org Unit Path [Required],Employee ID\n"
        "Ana,Díaz,ana@alpha.example,,/Staff,T-1042\n"
    )
    job = run_import(text, kind="staff")

    assert job.mapping == {"0": "first_name", "1": "last_name", "2": "email", "5": "sis_id"}
    assert job.status == ImportStatus.REVIEW
    row = job.rows.get()
    assert row.values == {
        "first_name": "Ana",
        "last_name": "Díaz",
        "email": "ana@alpha.example",
        "sis_id": "T-1042",
    }
    assert row.status == RowStatus.VALID


def test_clever_student_export_goes_straight_to_review(run_import, years):
    text = (
        "School_id,Student_id,Student_number,Last_name,First_name,Grade,Student_email\n"
        "BETA,s-5521,5521,Okafor,Sam,07,sam@alpha.example\n"
    )
    job = run_import(text)

    assert job.mapping == {
        "0": "schools",
        "1": "sis_id",
        "3": "last_name",
        "4": "first_name",
        "5": "year_group",
        "6": "email",
    }
    row = job.rows.get()
    assert row.status == RowStatus.VALID
    assert row.resolved["year_group_id"] == years[7].pk


UNKNOWN_HEADERS = (
    "Vorname,Nachname,E-Post,Jahrgang,Schule\nSam,Okafor,sam@alpha.example,7,Alpha High\n"
)


def test_missing_required_columns_ask_for_matching_and_validate_nothing(run_import):
    job = run_import(UNKNOWN_HEADERS)

    assert job.status == ImportStatus.MAPPING
    assert job.mapping == {}
    event = AuditEvent.objects.get(action="bulkactions.import.uploaded", target_id=job.pk)
    assert event.after == {"file": "people.csv", "kind": "students", "mode": "create"}
    assert job.header == ["Vorname", "Nachname", "E-Post", "Jahrgang", "Schule"]
    assert not job.rows.exists()


def _map(job, mapping, actor, capture):
    with capture(execute=True):
        services.import_map(job=job, actor=actor, mapping=mapping)
    return ImportJob.objects.get(pk=job.pk)


GERMAN = {"0": "first_name", "1": "last_name", "2": "email", "3": "year_group", "4": "schools"}


def test_a_mapping_validates_the_file_is_audited_and_is_remembered_for_the_next_file(
    run_import, district, district_admin, django_capture_on_commit_callbacks
):
    job = _map(
        run_import(UNKNOWN_HEADERS), GERMAN, district_admin, django_capture_on_commit_callbacks
    )

    assert job.status == ImportStatus.REVIEW
    row = job.rows.get()
    assert row.values["first_name"] == "Sam"
    assert row.status == RowStatus.VALID
    remembered = ImportMapping.objects.get(district=district, kind=ImportKind.STUDENTS)
    assert remembered.columns == {
        "vorname": "first_name",
        "nachname": "last_name",
        "epost": "email",
        "jahrgang": "year_group",
        "schule": "schools",
    }
    event = AuditEvent.objects.get(action="bulkactions.import.mapped", target_id=job.pk)
    assert event.actor == district_admin
    assert event.after["Vorname"] == "First name"

    # The next file with the same columns (in another order) needs no matching.
    again = run_import(
        "Schule,Jahrgang,Vorname,Nachname,E-Post\nAlpha High,8,Lia,Chen,lia@alpha.example\n"
    )
    assert again.status == ImportStatus.REVIEW
    assert again.mapping == {
        "0": "schools",
        "1": "year_group",
        "2": "first_name",
        "3": "last_name",
        "4": "email",
    }
    # Only for the kind it was made for: a staff file still asks.
    staff = run_import("Vorname,Nachname,E-Post\nAna,Díaz,ana@alpha.example\n", kind="staff")
    assert staff.status == ImportStatus.MAPPING


def test_a_mapping_with_a_field_twice_or_a_required_field_missing_is_refused(
    run_import, district_admin
):
    job = run_import(UNKNOWN_HEADERS)
    mapping = {"0": "first_name", "1": "first_name", "3": "year_group", "9": "sis_id"}

    with pytest.raises(ValidationError) as caught:
        services.import_map(job=job, actor=district_admin, mapping=mapping)

    assert caught.value.message_dict == {
        "column-1": ["“First name” is already chosen for column 1: choose it for one column only"],
        "column-9": ["Select a field from the list"],
        "__all__": [
            "Choose the column that holds the last name",
            "Choose the column that holds the email",
        ],
    }
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING
    assert not ImportMapping.objects.exists()
    assert not AuditEvent.objects.filter(action="bulkactions.import.mapped").exists()


def test_a_field_the_import_does_not_use_cannot_be_chosen(run_import, district_admin):
    job = run_import(UNKNOWN_HEADERS)

    with pytest.raises(ValidationError) as caught:
        services.import_map(job=job, actor=district_admin, mapping={**GERMAN, "2": "password"})

    assert caught.value.message_dict["column-2"] == ["Select a field from the list"]


def test_columns_cannot_be_matched_again_once_checked(
    run_import, district_admin, django_capture_on_commit_callbacks
):
    job = _map(
        run_import(UNKNOWN_HEADERS), GERMAN, district_admin, django_capture_on_commit_callbacks
    )

    with pytest.raises(ValidationError) as caught:
        services.import_map(job=job, actor=district_admin, mapping=GERMAN)
    assert caught.value.messages == ["This import's columns are already matched"]


def test_another_districts_remembered_mapping_is_not_used(run_import, other_district):
    ImportMapping.objects.create(
        district=other_district,
        kind=ImportKind.STUDENTS,
        columns={
            "vorname": "first_name",
            "nachname": "last_name",
            "epost": "email",
            "jahrgang": "year_group",
            "schule": "schools",
        },
    )
    assert run_import(UNKNOWN_HEADERS).status == ImportStatus.MAPPING
