"""Imports never cross districts: another district's jobs, rows, mappings, schools, year
groups, classes, accounts and credentials stay out of reach."""

import pytest
from django_scopes import ScopeError, scope

from accounts.models import Role, User
from bulkactions import services
from bulkactions.importing.results import credentials
from bulkactions.models import (
    ImportJob,
    ImportKind,
    ImportMapping,
    ImportPasswordMode,
    ImportRow,
    ImportStatus,
    RowStatus,
)
from bulkactions.tasks import validate_import
from schools.models import Enrollment
from tests.bulkactions.conftest import rows_by_number
from tests.factories import ClassroomFactory, SchoolFactory, YearGroupFactory


@pytest.fixture
def bravo(other_district):
    school = SchoolFactory(district=other_district, name="Bravo High", code="BRV")
    year = YearGroupFactory(district=other_district, ordinal=13, name="Year 13", grade_code="13")
    room = ClassroomFactory(district=other_district, school=school, name="13B")
    return {"school": school, "year": year, "classroom": room}


BRAVO_FILE = "First name,Last name,Year,School\nBea,Bravo,Year 13,Bravo High\n"


@pytest.fixture
def bravo_job(run_import_in, other_district, other_admin, bravo):
    job = run_import_in(
        other_district, other_admin, BRAVO_FILE, password_mode=ImportPasswordMode.SET
    )
    assert job.rows.get().status == RowStatus.VALID
    return job


def test_another_districts_jobs_rows_and_mappings_are_invisible_in_a_districts_scope(
    run_import, district, other_district, bravo_job
):
    ImportMapping.objects.create(
        district=other_district, kind=ImportKind.STUDENTS, columns={"vorname": "first_name"}
    )
    own = run_import(
        "First name,Last name,Email,Year,School\nSam,Okafor,s@a.example,7,Alpha High\n"
    )

    with scope(district=district):
        assert list(ImportJob.objects.all()) == [own]
        assert not ImportJob.objects.filter(pk=bravo_job.pk).exists()
        assert list(ImportRow.objects.values_list("job", flat=True)) == [own.pk]
        assert not ImportRow.objects.filter(job_id=bravo_job.pk).exists()
        assert not ImportMapping.objects.exists()
    with scope(district=other_district):
        assert list(ImportJob.objects.all()) == [bravo_job]


def test_a_query_that_forgets_the_district_fails(db):
    with scope(), pytest.raises(ScopeError):
        list(ImportJob.objects.all())
    with scope(), pytest.raises(ScopeError):
        list(ImportRow.objects.all())


def test_a_task_sent_with_another_district_does_nothing(district, district_admin, other_district):
    job = services.import_start(
        district=district,
        actor=district_admin,
        kind="staff",
        file_name="staff.csv",
        data=b"First name,Last name,Email\nAna,Diaz,ana@alpha.example\n",
        enqueue=False,
    )

    validate_import(other_district.pk, job.pk, job.run_token)
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATING
    assert not job.rows.exists()

    validate_import(district.pk, job.pk, job.run_token)
    job.refresh_from_db()
    assert job.status == ImportStatus.REVIEW


def test_schools_year_groups_and_classes_of_another_district_are_unknown_and_untouched(
    run_import, commit, district, other_district, bravo
):
    job = run_import(
        "First name,Last name,Email,Year,School,Classes\n"
        "Bea,Bravo,bea@alpha.example,Year 13,Bravo High,\n"
        "Sam,Okafor,sam@alpha.example,Year 7,BRV,\n"
        "Lia,Chen,lia@alpha.example,Year 7,Alpha High,13B\n"
        "Max,Roe,max@alpha.example,Year 7,Alpha High,7A\n"
    )

    rows = rows_by_number(job)
    assert rows[2].errors == {
        "schools": [
            "There is no school called “Bravo High” in this district: use a name or code from "
            "the list on the import page"
        ],
        "year_group": ["Enter a year group of this district: Year 7, Year 8, Year 9"],
    }
    assert rows[3].errors["schools"][0].startswith("There is no school called “BRV”")
    assert rows[4].errors == {
        "classrooms": [
            "There is no class called “13B” at Alpha High: check the spelling or add the "
            "class on the Classrooms page first"
        ]
    }
    assert rows[5].status == RowStatus.VALID

    job = commit(job, skip_errors=True)
    assert (job.created_count, job.skipped_count) == (1, 3)
    assert not User.objects.filter(district=other_district).exclude(role=Role.DISTRICT_ADMIN)
    assert not Enrollment.objects.filter(classroom=bravo["classroom"]).exists()
    assert not bravo["school"].members.exists()
    assert not User.objects.filter(year_group=bravo["year"]).exists()
    assert User.objects.get(email="max@alpha.example").district == district


def test_an_import_in_a_district_creates_accounts_only_there(
    run_import, commit, district, other_district, other_admin
):
    before = User.objects.filter(district=other_district).count()
    job = commit(
        run_import(
            "First name,Last name,Email,Year,School\n"
            "Sam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        )
    )

    assert job.rows.get().user.district == district
    assert User.objects.filter(district=other_district).count() == before


def test_credentials_hold_only_the_jobs_own_rows(
    run_import, commit, bravo_job, other_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.import_commit(job=bravo_job, actor=other_admin)
    own = commit(
        run_import(
            "First name,Last name,Year,School\nSam,Okafor,Year 7,Alpha High\n",
            password_mode=ImportPasswordMode.SET,
        )
    )

    assert [c["username"] for c in credentials(own)] == ["sam.okafor"]
    assert [c["username"] for c in credentials(ImportJob.objects.get(pk=bravo_job.pk))] == [
        "bea.bravo"
    ]
