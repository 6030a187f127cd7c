"""Settings > Bulk actions: history, per-person results with before and after, undo;
each role and another district."""

import pytest

from accounts.models import Role, Status, User
from bulkactions import services
from bulkactions.models import BulkAction
from tests.factories import UserFactory, YearGroupFactory


@pytest.fixture
def deactivation(district, district_admin, django_capture_on_commit_callbacks):
    year7 = YearGroupFactory(district=district, ordinal=7, name="Year 7")
    for n in range(3):
        UserFactory(
            district=district,
            role=Role.STUDENT,
            year_group=year7,
            username=f"kid{n}",
            first_name="Kid",
            last_name=f"Number{n}",
        )
    with django_capture_on_commit_callbacks(execute=True):
        action = services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="students",
            action="deactivate",
            params={},
            users=User.objects.filter(district=district, role=Role.STUDENT),
            selection="Filter: Year 7",
        )
    return BulkAction.objects.get(pk=action.pk)


def test_history_lists_the_action_and_its_detail_shows_each_person(
    client_for, district, district_admin, deactivation
):
    client = client_for(district, district_admin)
    listing = client.get("/settings/bulk-actions/").content.decode()
    assert "Deactivate" in listing and "Filter: Year 7" in listing
    detail = client.get(f"/settings/bulk-actions/{deactivation.pk}/").content.decode()
    assert "3 changed, 0 skipped, 0 failed, of 3" in detail
    assert "Kid Number0 (kid0)" in detail
    assert "Status: Active" in detail and "Status: Deactivated" in detail
    assert "Undo for 3 people" in detail


def test_undo_from_the_page_restores_and_is_kept_in_the_history(
    client_for, district, district_admin, deactivation, django_capture_on_commit_callbacks
):
    client = client_for(district, district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/bulk-actions/{deactivation.pk}/undo/")
    undo = BulkAction.objects.get(undo_of=deactivation)
    assert response["Location"] == f"/settings/bulk-actions/{undo.pk}/"
    assert not User.objects.filter(username__startswith="kid", status=Status.DEACTIVATED).exists()
    page = client.get(f"/settings/bulk-actions/{deactivation.pk}/").content.decode()
    assert f"Bulk action #{undo.pk}" in page and "Undo for" not in page
    again = client.post(f"/settings/bulk-actions/{deactivation.pk}/undo/", follow=True)
    assert "already been undone" in again.content.decode()


def test_other_district_school_admin_and_teacher_cannot_see_or_undo(
    client_for, district, other_district, other_admin, school_admin, teacher, deactivation
):
    bravo = client_for(other_district, other_admin)
    assert bravo.get(f"/settings/bulk-actions/{deactivation.pk}/").status_code == 404
    assert bravo.post(f"/settings/bulk-actions/{deactivation.pk}/undo/").status_code == 404
    assert "Deactivate" not in bravo.get("/settings/bulk-actions/").content.decode()
    head = client_for(district, school_admin)
    assert head.get(f"/settings/bulk-actions/{deactivation.pk}/").status_code == 404
    assert client_for(district, teacher).get("/settings/bulk-actions/").status_code == 403
    assert not BulkAction.objects.filter(undo_of=deactivation).exists()


def test_a_running_action_shows_its_progress_and_the_poll_stops_when_it_is_done(
    client_for, district, district_admin
):
    from accounts.models import Role
    from bulkactions.models import BulkActionStatus

    for n in range(4):
        UserFactory(district=district, role=Role.STUDENT, username=f"run{n}")
    action = services.bulk_action_start(
        district=district,
        actor=district_admin,
        kind="students",
        action="deactivate",
        params={},
        users=User.objects.filter(district=district, role=Role.STUDENT),
        enqueue=False,
    )
    client = client_for(district, district_admin)
    page = client.get(f"/settings/bulk-actions/{action.pk}/").content.decode()
    assert "0 of 4 people done" in page and "<progress" in page and "Starting…" in page
    partial = client.get(f"/settings/bulk-actions/{action.pk}/progress/")
    assert partial.status_code == 200 and "0 of 4 people done" in partial.content.decode()
    services.bulk_action_run(action, action.run_token)
    assert BulkAction.objects.get(pk=action.pk).status == BulkActionStatus.DONE
    done = client.get(f"/settings/bulk-actions/{action.pk}/progress/")
    assert done.status_code == 286
    assert done["HX-Redirect"] == f"/settings/bulk-actions/{action.pk}/"
