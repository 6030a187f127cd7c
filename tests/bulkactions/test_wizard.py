"""The bulk-action wizard's pages: selection kept per draft, bad input, another
district, and a draft that runs only once."""

import pytest

from accounts.models import Role, User
from bulkactions.models import BulkAction
from tests.factories import UserFactory, YearGroupFactory


@pytest.fixture
def years(district):
    return (
        YearGroupFactory(district=district, ordinal=7, name="Year 7"),
        YearGroupFactory(district=district, ordinal=8, name="Year 8"),
    )


@pytest.fixture
def pupils(district, years):
    return [
        UserFactory(district=district, role=Role.STUDENT, year_group=years[0], username=f"w{n}")
        for n in range(3)
    ]


def start(client, pupils, **extra):
    data = {"selected": [str(p.pk) for p in pupils], **extra}
    response = client.post("/settings/bulk-actions/new/students/", data)
    assert response.status_code == 302
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_every_step_then_one_run_only(
    client_for, district, district_admin, pupils, years, django_capture_on_commit_callbacks
):
    client = client_for(district, district_admin)
    token = start(client, pupils)
    base = f"/settings/bulk-actions/draft/{token}"
    assert "3 students are ticked" in client.get(f"{base}/").content.decode()
    response = client.post(f"{base}/action/", {"action": "nonsense"})
    assert "Select what to do" in response.content.decode()
    client.post(f"{base}/action/", {"action": "year_group"})
    response = client.post(f"{base}/details/", {"year_group": ""})
    assert "Select a year group of this district" in response.content.decode()
    preview = client.get(f"{base}/preview/?year_group={years[1].pk}").content.decode()
    assert "3 students will move to Year 8." in preview
    client.post(f"{base}/details/", {"year_group": years[1].pk})
    assert "Move 3 students to Year 8" in client.get(f"{base}/check/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"{base}/run/")
    second = client.post(f"{base}/run/")  # a double click, or the same draft in a second tab
    assert first["Location"] == second["Location"]
    assert BulkAction.objects.count() == 1
    assert User.objects.filter(year_group=years[1]).count() == 3


def test_an_empty_selection_goes_back_to_the_list_with_a_message(
    client_for, district, district_admin
):
    client = client_for(district, district_admin)
    response = client.post("/settings/bulk-actions/new/students/", {}, follow=True)
    assert "Select at least one person, then choose Bulk action" in response.content.decode()
    assert BulkAction.objects.count() == 0


def test_another_districts_people_and_year_groups_are_out_of_reach(
    client_for, district, district_admin, other_district, pupils, years
):
    outsider = UserFactory(district=other_district, role=Role.STUDENT, username="outsider")
    other_year = YearGroupFactory(district=other_district, ordinal=9, name="Year 9")
    client = client_for(district, district_admin)
    token = start(client, [*pupils, outsider])
    base = f"/settings/bulk-actions/draft/{token}"
    assert "3 students are ticked" in client.get(f"{base}/").content.decode()
    client.post(f"{base}/action/", {"action": "year_group"})
    response = client.post(f"{base}/details/", {"year_group": other_year.pk})
    assert "Select a year group of this district" in response.content.decode()


def test_a_draft_is_this_sessions_and_this_districts_only(
    client_for, district, district_admin, other_district, other_admin, pupils
):
    token = start(client_for(district, district_admin), pupils)
    assert (
        client_for(other_district, other_admin)
        .get(f"/settings/bulk-actions/draft/{token}/")
        .status_code
        == 404
    )
    assert (
        client_for(district, district_admin)
        .get("/settings/bulk-actions/draft/unknown/")
        .status_code
        == 404
    )


def test_teachers_cannot_start_a_bulk_action(client_for, district, teacher, pupils):
    client = client_for(district, teacher)
    response = client.post("/settings/bulk-actions/new/students/", {"selected": [pupils[0].pk]})
    assert response.status_code == 403


def test_new_passwords_through_the_wizard_keep_the_typed_one_out_of_the_session(
    client_for, district, district_admin, django_capture_on_commit_callbacks
):
    from accounts.models import PasswordMode

    kid = UserFactory(
        district=district, role=Role.STUDENT, username="slipkid", password_mode=PasswordMode.STAFF
    )
    client = client_for(district, district_admin)
    token = start(client, [kid])
    base = f"/settings/bulk-actions/draft/{token}"
    client.post(f"{base}/action/", {"action": "reset_password"})
    weak = client.post(f"{base}/details/", {"mode": "set", "password": "abc"})
    assert "Enter a password with at least 8 characters" in weak.content.decode()
    client.post(f"{base}/details/", {"mode": "set", "password": "Velvet-Summit-42"})
    assert "Velvet-Summit-42" not in str(dict(client.session))
    assert "Set new passwords for 1 student" in client.get(f"{base}/check/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{base}/run/")
    detail = client.get(response["Location"]).content.decode()
    assert "Print sign-in slips or download the passwords" in detail
    assert User.objects.get(pk=kid.pk).check_password("Velvet-Summit-42")


def test_a_leavers_file_starts_a_draft_and_lists_the_lines_that_matched_nobody(
    client_for, district, district_admin, pupils, other_district
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    outsider = UserFactory(district=other_district, role=Role.STUDENT, username="faraway")
    text = f"username\nw0\nw1\nnobody.here\n{outsider.username}\nw0\n"
    client = client_for(district, district_admin)
    response = client.post(
        "/settings/bulk-actions/new-from-file/",
        {"kind": "students", "file": SimpleUploadedFile("leavers.csv", text.encode())},
    )
    page = client.get(response["Location"]).content.decode()
    assert "2 students named in leavers.csv" in page
    assert "3 lines of leavers.csv matched nobody" in page
    assert "nobody.here" in page and "Duplicate of line 2" in page
    empty = client.post(
        "/settings/bulk-actions/new-from-file/",
        {"kind": "students", "file": SimpleUploadedFile("none.csv", b"username\nnobody\n")},
        follow=True,
    )
    assert "No line of the file names a person you can act on" in empty.content.decode()


def test_a_school_admin_acts_only_on_people_of_their_schools(
    client_for, district, school, school_admin, pupils, django_capture_on_commit_callbacks
):
    mine = UserFactory(district=district, role=Role.STUDENT, username="mine")
    mine.set_schools([school])
    client = client_for(district, school_admin)
    token = start(client, [*pupils, mine])  # the pupils are at no school of theirs
    base = f"/settings/bulk-actions/draft/{token}"
    assert "1 student is ticked" in client.get(f"{base}/").content.decode()
    client.post(f"{base}/action/", {"action": "deactivate"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{base}/run/")
    assert BulkAction.objects.get().total == 1
    assert not User.objects.filter(pk__in=[p.pk for p in pupils], status="deactivated").exists()
