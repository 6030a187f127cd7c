"""The import pages: upload, mapping, review with inline fixes, create, results,
credentials; each role and another district."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent, User
from bulkactions.models import ImportJob, ImportStatus, RowStatus

GOOD = "First name,Last name,Email,Year,School\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
WITH_ERROR = GOOD + "Max,Roe,not-an-email,Year 7,Alpha High\n"


@pytest.fixture
def admin_client(client_for, district, district_admin, years, school, second_school, classroom):
    return client_for(district, district_admin)


def upload(client, text, *, kind="students", name="people.csv", **extra):
    data = {
        "kind": kind,
        "mode": "create",
        "password_mode": "email",
        "file": SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text),
        **extra,
    }
    return client.post("/settings/imports/new/", data)


def latest_job():
    return ImportJob.objects.order_by("-pk").first()


def test_upload_validates_and_shows_the_review(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, WITH_ERROR)
    job = latest_job()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/imports/{job.pk}/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Review the rows" in page
    assert "Enter an email address in the correct format, like name@school.org" in page
    assert "Show only rows with errors (1)" in page
    only_errors = admin_client.get(f"/settings/imports/{job.pk}/?errors=1").content.decode()
    assert "1 row with errors" in only_errors
    assert "Okafor" not in only_errors


def test_upload_form_errors_say_what_to_do(admin_client):
    response = admin_client.post("/settings/imports/new/", {"mode": "create"})
    page = response.content.decode()
    assert "Select a CSV or Excel file" in page
    assert "Select staff or students" in page
    response = upload(admin_client, "", name="empty.csv")
    assert "The selected file is empty" in response.content.decode()
    response = upload(admin_client, b"\x00\x01\x02binary\x00" * 50, name="x.csv")
    assert "not a CSV or Excel file" in response.content.decode()
    response = upload(admin_client, "hello", name="notes.pdf")
    assert "must be a CSV or an Excel" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_inline_fix_revalidates_and_updates_totals(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, WITH_ERROR)
    job = latest_job()
    form = admin_client.get(f"/settings/imports/{job.pk}/rows/3/?edit=1").content.decode()
    assert 'name="email"' in form and "Save row 3" in form
    response = admin_client.post(
        f"/settings/imports/{job.pk}/rows/3/",
        {
            "first_name": "Max",
            "last_name": "Roe",
            "email": "max@alpha.example",
            "year_group": "Year 7",
            "schools": "Alpha High",
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "Row 3 fixed. 0 rows with errors left." in page
    assert job.rows.get(number=3).status == RowStatus.VALID
    assert "Create 2 accounts" in page
    assert AuditEvent.objects.filter(action="bulkactions.import.row_fixed").exists()


def test_create_needs_the_skip_choice_while_rows_have_errors(
    admin_client, django_capture_on_commit_callbacks, district
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, WITH_ERROR)
    job = latest_job()
    response = admin_client.post(f"/settings/imports/{job.pk}/create/", follow=True)
    assert "1 row has errors" in response.content.decode()
    assert not User.objects.filter(email="sam@alpha.example").exists()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/settings/imports/{job.pk}/create/", {"skip_errors": "1"})
    page = admin_client.get(f"/settings/imports/{job.pk}/").content.decode()
    assert "1 account created" in page
    assert User.objects.filter(district=district, email="sam@alpha.example").exists()
    csv = admin_client.get(f"/settings/imports/{job.pk}/results.csv").content.decode("utf-8-sig")
    assert "sam.okafor" in csv and "Skipped" in csv


def test_unmatched_columns_ask_for_a_mapping_that_is_remembered(
    admin_client, django_capture_on_commit_callbacks
):
    text = "Vorname,Nachname,Mail,Stufe,Schule\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
    upload(admin_client, text)
    job = latest_job()
    assert job.status == ImportStatus.MAPPING
    page = admin_client.get(f"/settings/imports/{job.pk}/").content.decode()
    assert "Match the columns" in page and "Vorname" in page and "Okafor" in page
    response = admin_client.post(f"/settings/imports/{job.pk}/columns/", {"column-0": "first_name"})
    assert "Choose the column that holds the last name" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/settings/imports/{job.pk}/columns/",
            {
                "column-0": "first_name",
                "column-1": "last_name",
                "column-2": "email",
                "column-3": "year_group",
                "column-4": "schools",
            },
        )
    assert latest_job().status == ImportStatus.REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, text)
    assert latest_job().status == ImportStatus.REVIEW  # remembered for the district


def test_abandon_deletes_rows_and_writes_nothing(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, GOOD)
    job = latest_job()
    response = admin_client.post(f"/settings/imports/{job.pk}/abandon/", follow=True)
    assert "abandoned: no account was changed" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.ABANDONED and job.rows.count() == 0
    assert not User.objects.filter(email="sam@alpha.example").exists()


def test_other_district_and_other_roles_get_404_or_403(
    admin_client,
    client_for,
    other_district,
    other_admin,
    teacher,
    district,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, GOOD)
    job = latest_job()
    bravo = client_for(other_district, other_admin)
    for url in (
        f"/settings/imports/{job.pk}/",
        f"/settings/imports/{job.pk}/rows/2/",
        f"/settings/imports/{job.pk}/progress/",
        f"/settings/imports/{job.pk}/results.csv",
        f"/settings/imports/{job.pk}/credentials/",
    ):
        assert bravo.get(url).status_code == 404, url
    assert bravo.post(f"/settings/imports/{job.pk}/create/").status_code == 404
    assert bravo.post(f"/settings/imports/{job.pk}/abandon/").status_code == 404
    assert latest_job().status == ImportStatus.REVIEW
    assert client_for(district, teacher).get("/settings/imports/").status_code == 403


def test_school_admin_sees_only_their_own_imports(
    admin_client, client_for, district, school_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, GOOD)
    job = latest_job()
    client = client_for(district, school_admin)
    assert client.get(f"/settings/imports/{job.pk}/").status_code == 404
    assert "people.csv" not in client.get("/settings/imports/").content.decode()


def test_templates_download_with_an_example_row(admin_client):
    csv = admin_client.get("/settings/imports/template/students.csv")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("First name,Last name,Email")
    assert "Year 7" in text
    xlsx = admin_client.get("/settings/imports/template/staff.xlsx")
    assert xlsx.content[:2] == b"PK"
    assert admin_client.get("/settings/imports/template/parents.csv").status_code == 404


def test_credentials_only_for_the_admin_who_ran_it_and_downloads_are_audited(
    admin_client, client_for, district, django_capture_on_commit_callbacks, settings
):
    from accounts.models import Role
    from tests.factories import UserFactory

    text = "First name,Last name,Year,School,Password\nSam,Okafor,Year 7,Alpha High,\n"
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, text, password_mode="set")
    job = latest_job()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/settings/imports/{job.pk}/create/")
    page = admin_client.get(f"/settings/imports/{job.pk}/credentials/").content.decode()
    assert "Download sign-in slips (PDF)" in page
    pdf = admin_client.get(f"/settings/imports/{job.pk}/credentials/sign-in-details.pdf")
    assert pdf.content.startswith(b"%PDF")
    csv = admin_client.get(f"/settings/imports/{job.pk}/credentials/sign-in-details.csv")
    assert "sam.okafor" in csv.content.decode("utf-8-sig")
    assert (
        AuditEvent.objects.filter(action="bulkactions.import.credentials_downloaded").count() == 2
    )
    other_admin = UserFactory(district=district, role=Role.DISTRICT_ADMIN, username="other.admin")
    assert (
        client_for(district, other_admin)
        .get(f"/settings/imports/{job.pk}/credentials/")
        .status_code
        == 404
    )
    from datetime import timedelta

    from django.utils import timezone

    ImportJob.objects.filter(pk=job.pk).update(
        credentials_expire_at=timezone.now() - timedelta(minutes=1)
    )
    expired = admin_client.get(f"/settings/imports/{job.pk}/credentials/sign-in-details.csv")
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
