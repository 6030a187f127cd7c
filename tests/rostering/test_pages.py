"""Settings > Integrations > Rostering, through the views: connections (secret never
shown back), uploads, runs with their diff, approval, the grade mapping, and 404s from
another district."""

import pytest

from accounts.models import AuditEvent, User
from rostering import services
from rostering.models import RosterConnection, RunStatus, SyncRun
from tests.rostering import roster


@pytest.fixture
def admin_client(client_for, district, district_admin):
    return client_for(district, district_admin)


@pytest.fixture
def uploads(district, district_admin):
    return services.connection_create(
        district=district, actor=district_admin, name="Uploads", kind="csv_upload",
        schedule="manual",
    )  # fmt: skip


def upload(client, connection, data, **extra):
    """Uploads a bundle; its run starts after commit, as the view's transaction ends."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection as db

    with _on_commit(db):
        return client.post(
            f"/settings/rostering/connections/{connection.pk}/upload/",
            {"file": SimpleUploadedFile("roster.zip", data, "application/zip"), **extra},
        )


class _on_commit:
    """Runs the on-commit callbacks the request queued (tests run inside one transaction)."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.start = len(self.db.run_on_commit)

    def __exit__(self, *exc):
        while len(self.db.run_on_commit) > self.start:
            _sids, callback, _robust = self.db.run_on_commit.pop(self.start)
            callback()


def test_rest_connection_is_created_with_its_secret_sealed(admin_client, district):
    response = admin_client.post(
        "/settings/rostering/connections/new/",
        {
            "name": "PowerSchool",
            "kind": "rest",
            "version": "1.1",
            "url": "https://sis.example.org/ims/oneroster/v1p1",
            "auth": "oauth2",
            "token_url": "https://sis.example.org/oauth/token",
            "client_id": "rollbook",
            "secret": "s3cr3t-value",
            "schedule": "daily",
            "daily_at": "03:30",
            "threshold_pct": "15",
            "activation_emails": "hold",
        },
    )

    assert response.status_code == 302
    connection = RosterConnection.objects.get(district=district)
    assert connection.secret_sealed and "s3cr3t-value" not in connection.secret_sealed
    assert connection.next_run_at is not None
    edit = admin_client.get(f"/settings/rostering/connections/{connection.pk}/").content.decode()
    assert "s3cr3t-value" not in edit and "A secret is stored" in edit
    event = AuditEvent.objects.get(action="rostering.connection.created")
    assert "s3cr3t-value" not in str(event.after)


def test_connection_form_explains_what_is_missing(admin_client):
    response = admin_client.post(
        "/settings/rostering/connections/new/",
        {"name": "X", "kind": "rest", "version": "1.1", "url": "http://sis.example.org/x",
         "auth": "oauth2", "schedule": "hourly", "threshold_pct": "10",
         "activation_emails": "hold"},
    )  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 400
    assert "Use an https:// address" in page
    assert "Enter the OAuth 2.0 token address" in page
    assert "Enter the client secret" in page


def test_upload_runs_and_the_run_page_shows_counts_and_changes(admin_client, uploads, district):
    response = upload(admin_client, uploads, roster.zipped(roster.tiny()))

    run = SyncRun.objects.get(district=district)
    assert response.status_code == 302 and response.url == f"/settings/rostering/runs/{run.pk}/"
    page = admin_client.get(response.url).content.decode()
    assert "Applied" in page and "What this run changed" in page
    assert "Sam One" in page and "Accounts" in page
    assert "First name:" in page and "new (grade 05)" in page and "year_group_id" not in page
    home = admin_client.get("/settings/rostering/").content.decode()
    assert f"Run {run.pk}" in home and "Account changes per sync" in home


def test_upload_of_a_non_zip_is_refused_at_once(admin_client, uploads):
    response = upload(admin_client, uploads, b"name,email\n")

    assert response.status_code == 302  # a .zip name: checked whole by the run
    run = SyncRun.objects.get()
    assert run.status == RunStatus.FAILED
    page = admin_client.get(f"/settings/rostering/runs/{run.pk}/").content.decode()
    assert "not a complete zip file" in page and "nothing was applied" in page


def test_upload_without_a_file_says_so(admin_client, uploads):
    response = admin_client.post(f"/settings/rostering/connections/{uploads.pk}/upload/", {})

    assert response.status_code == 400
    assert "Choose the OneRoster CSV bundle (.zip) to upload" in response.content.decode()


def test_held_run_is_approved_from_its_page(admin_client, uploads, district):
    upload(admin_client, uploads, roster.zipped(roster.tiny()))
    upload(admin_client, uploads, roster.zipped(roster.without(roster.tiny(), "users.csv", "s1")))
    held = SyncRun.objects.filter(district=district).first()
    assert held.status == RunStatus.HELD
    assert (
        "A sync is waiting for your approval"
        in admin_client.get("/settings/rostering/").content.decode()
    )

    from django.db import connection as db

    with _on_commit(db):
        admin_client.post(f"/settings/rostering/runs/{held.pk}/approve/")

    held.refresh_from_db()
    assert held.status == RunStatus.APPLIED
    assert User.objects.get(district=district, username="sam.one").status == "deactivated"


def test_held_run_can_be_rejected_and_then_not_approved(admin_client, uploads, district):
    upload(admin_client, uploads, roster.zipped(roster.tiny()))
    upload(admin_client, uploads, roster.zipped(roster.without(roster.tiny(), "users.csv", "s1")))
    held = SyncRun.objects.filter(district=district).first()

    admin_client.post(f"/settings/rostering/runs/{held.pk}/reject/")
    response = admin_client.post(f"/settings/rostering/runs/{held.pk}/approve/", follow=True)

    held.refresh_from_db()
    assert held.status == RunStatus.REJECTED
    assert "no longer waiting for approval" in response.content.decode()
    assert User.objects.get(district=district, username="sam.one").status == "invited"


def test_grade_mapping_page_saves(admin_client, district):
    from schools.models import YearGroup

    year = YearGroup.objects.create(district=district, ordinal=7, name="Year 7")

    admin_client.post("/settings/rostering/grades/", {"grade-06": str(year.pk)})

    year.refresh_from_db()
    assert year.grade_code == "06"


def test_rostered_people_are_read_only(admin_client, uploads, district):
    upload(admin_client, uploads, roster.zipped(roster.tiny()))
    sam = User.objects.get(district=district, username="sam.one")

    page = admin_client.get(f"/settings/people/{sam.pk}/edit/").content.decode()

    assert "Managed by your SIS" in page and 'name="first_name"' not in page


def test_other_roles_cannot_open_rostering(client_for, district, teacher, school_admin):
    for user in (teacher, school_admin):
        assert client_for(district, user).get("/settings/rostering/").status_code == 403


def test_another_districts_connections_and_runs_are_404(
    client_for, other_district, other_admin, uploads, admin_client
):
    upload(admin_client, uploads, roster.zipped(roster.tiny()))
    run = SyncRun.objects.get()
    bravo = client_for(other_district, other_admin)

    for url in (
        f"/settings/rostering/connections/{uploads.pk}/",
        f"/settings/rostering/connections/{uploads.pk}/upload/",
        f"/settings/rostering/runs/{run.pk}/",
    ):
        assert bravo.get(url).status_code == 404
    for url in (
        f"/settings/rostering/connections/{uploads.pk}/sync/",
        f"/settings/rostering/connections/{uploads.pk}/toggle/",
        f"/settings/rostering/runs/{run.pk}/approve/",
    ):
        assert bravo.post(url).status_code == 404
    assert "Uploads" not in bravo.get("/settings/rostering/").content.decode()


def test_polling_a_finished_run_reloads_the_whole_page(admin_client, uploads):
    upload(admin_client, uploads, roster.zipped(roster.tiny()))
    run = SyncRun.objects.get()

    response = admin_client.get(f"/settings/rostering/runs/{run.pk}/", HTTP_HX_REQUEST="true")

    assert response["HX-Refresh"] == "true"
