"""Import fixtures: a district with two schools, year groups and classes, and a helper
that runs a file through upload, validation and (optionally) commit."""

import pytest

from bulkactions import services
from bulkactions.models import ImportJob
from tests.factories import ClassroomFactory, SchoolFactory, YearGroupFactory


@pytest.fixture
def years(district):
    return {
        n: YearGroupFactory(district=district, ordinal=n, name=f"Year {n}", grade_code=f"{n:02d}")
        for n in (7, 8, 9)
    }


@pytest.fixture
def second_school(district):
    return SchoolFactory(district=district, name="Beta Academy", code="BETA")


@pytest.fixture
def classroom(district, school):
    return ClassroomFactory(district=district, school=school, name="7A")


@pytest.fixture
def run_import(
    district,
    district_admin,
    years,
    school,
    second_school,
    classroom,
    django_capture_on_commit_callbacks,
):
    """Uploads `text` as a CSV and returns the job once validation has run."""

    def run(text, *, kind="students", actor=None, name="people.csv", data=None, **options):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_start(
                district=district,
                actor=actor or district_admin,
                kind=kind,
                file_name=name,
                data=data if data is not None else text.encode(),
                **options,
            )
        return ImportJob.objects.get(pk=job.pk)

    return run


@pytest.fixture
def commit(django_capture_on_commit_callbacks, district_admin):
    def run(job, *, skip_errors=False, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            services.import_commit(job=job, actor=actor or district_admin, skip_errors=skip_errors)
        return ImportJob.objects.get(pk=job.pk)

    return run


@pytest.fixture
def run_import_in(django_capture_on_commit_callbacks):
    """Like run_import, for any district and actor (a one-school district, the other one)."""

    def run(district, actor, text, *, kind="students", name="people.csv", **options):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_start(
                district=district,
                actor=actor,
                kind=kind,
                file_name=name,
                data=text.encode(),
                **options,
            )
        return ImportJob.objects.get(pk=job.pk)

    return run


def rows_by_number(job) -> dict:
    return {row.number: row for row in job.rows.all()}
