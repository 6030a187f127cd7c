"""The annual rollover: preview per year group, leavers, archived classes, once per
academic year per school, greyed out afterwards, undone as a whole."""

import pytest

from accounts.models import Role, Status, User
from bulkactions import services
from bulkactions.models import BulkAction, Rollover
from schools.models import Classroom
from tests.factories import ClassroomFactory, UserFactory, YearGroupFactory


@pytest.fixture
def ladder(district):
    y13 = YearGroupFactory(district=district, ordinal=13, name="Year 13")
    y12 = YearGroupFactory(district=district, ordinal=12, name="Year 12", next=y13)
    return y12, y13


@pytest.fixture
def cohort(district, school, ladder):
    made = []
    for n, year in enumerate([ladder[0]] * 3 + [ladder[1]] * 2):
        user = UserFactory(district=district, role=Role.STUDENT, year_group=year, username=f"s{n}")
        user.set_schools([school])
        made.append(user)
    return made


def test_preview_then_run_moves_up_and_deactivates_leavers(
    district, school, district_admin, cohort, ladder, django_capture_on_commit_callbacks
):
    assert services.rollover_preview(district=district, school=school) == [
        {"from": "Year 12", "to": "Year 13", "count": 3},
        {"from": "Year 13", "to": None, "count": 2},
    ]
    room = ClassroomFactory(district=district, school=school, name="12A")
    with django_capture_on_commit_callbacks(execute=True):
        action = services.rollover_start(
            district=district, actor=district_admin, school=school, archive_classrooms=True
        )
    action = BulkAction.objects.get(pk=action.pk)
    assert action.changed_count == 5
    assert User.objects.filter(year_group=ladder[1], status=Status.ACTIVE).count() == 3
    assert User.objects.filter(status=Status.DEACTIVATED, role=Role.STUDENT).count() == 2
    assert Classroom.objects.get(pk=room.pk).archived_at is not None


def test_once_per_year_greyed_out_then_undone_as_a_whole(
    client_for, district, school, district_admin, cohort, ladder, django_capture_on_commit_callbacks
):
    client = client_for(district, district_admin)
    page = client.get("/settings/bulk-actions/rollover/").content.decode()
    assert "Roll over 5 students at Alpha High" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/settings/bulk-actions/rollover/{school.pk}/", {"leavers": "deactivate"}
        )
    action = BulkAction.objects.get(action="rollover")
    assert response["Location"] == f"/settings/bulk-actions/{action.pk}/"
    page = client.get("/settings/bulk-actions/rollover/").content.decode()
    assert "Done for" in page and "The next rollover opens on" in page
    again = client.post(
        f"/settings/bulk-actions/rollover/{school.pk}/", {"leavers": "deactivate"}, follow=True
    )
    assert "already run" in again.content.decode()
    assert BulkAction.objects.filter(action="rollover").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/settings/bulk-actions/{action.pk}/undo/")
    assert Rollover.objects.get().undone_at is not None
    assert User.objects.filter(year_group=ladder[0]).count() == 3
    assert not User.objects.filter(status=Status.DEACTIVATED).exists()
    assert "Roll over 5 students" in client.get("/settings/bulk-actions/rollover/").content.decode()


def test_undo_is_refused_when_someone_was_changed_since(
    district, school, district_admin, cohort, ladder, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    with django_capture_on_commit_callbacks(execute=True):
        services.rollover_start(district=district, actor=district_admin, school=school)
    User.objects.filter(username="s0").update(year_group=ladder[0])
    rollover = Rollover.objects.get()
    assert "1 students were changed since the rollover" in services.rollover_undo_problem(rollover)
    with pytest.raises(ValidationError):
        services.rollover_undo(rollover=rollover, actor=district_admin)


def test_school_admins_roll_over_their_own_schools_only(
    client_for, district, school_admin, cohort, other_district
):
    from tests.factories import SchoolFactory

    elsewhere = SchoolFactory(district=district, name="Elsewhere")
    client = client_for(district, school_admin)
    assert "Elsewhere" not in client.get("/settings/bulk-actions/rollover/").content.decode()
    assert client.post(f"/settings/bulk-actions/rollover/{elsewhere.pk}/").status_code == 404
    foreign = SchoolFactory(district=other_district, name="Bravo")
    assert client.post(f"/settings/bulk-actions/rollover/{foreign.pk}/").status_code == 404
    assert not BulkAction.objects.exists()


def test_the_command_previews_runs_once_and_refuses_a_second_time(district, school, cohort, ladder):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command(
        "rollover", "--district", "alpha", "--school", "Alpha High", "--dry-run", stdout=out
    )
    assert "Year 12 -> Year 13: 3" in out.getvalue() and "Year 13 -> leave: 2" in out.getvalue()
    assert not BulkAction.objects.exists()
    out = StringIO()
    call_command("rollover", "--district", "alpha", "--school", "Alpha High", stdout=out)
    assert "Done: 5 changed, 0 skipped, 0 failed" in out.getvalue()
    with pytest.raises(CommandError, match="already ran"):
        call_command("rollover", "--district", "alpha", "--school", "Alpha High", stdout=StringIO())
    with pytest.raises(CommandError, match="no such school"):
        call_command("rollover", "--district", "alpha", "--school", "Nowhere", stdout=StringIO())
