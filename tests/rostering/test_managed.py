"""Rostered accounts and classes belong to the SIS: bulk actions skip what the SIS owns
(and say why), rostered classes refuse bulk membership changes, emails still go out."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role, Status, User
from bulkactions import services as bulk
from rostering import services
from rostering.models import Trigger
from schools.models import Classroom, YearGroup
from tests.rostering import roster


@pytest.fixture
def rostered(district, district_admin):
    connection = services.connection_create(
        district=district, actor=None, name="SIS", kind="csv_upload", schedule="manual"
    )
    run = services.run_start(
        connection=connection, actor=None, trigger=Trigger.COMMAND,
        bundle=roster.zipped(roster.tiny()), enqueue=False,
    )  # fmt: skip
    services.run_claim(run)
    services.run_execute(run=run)
    return User.objects.filter(district=district, role=Role.STUDENT, managed_by_sis=True)


def test_bulk_year_group_change_skips_rostered_students(district, district_admin, rostered):
    year = YearGroup.objects.create(district=district, ordinal=40, name="Year 40")

    preview = bulk.bulk_action_preview(
        district=district, actor=district_admin, kind="students", action="year_group",
        params={"year_group": year.pk}, users=rostered,
    )  # fmt: skip

    assert preview == {"change": 0, "skipped": {"Managed by your SIS: change it there": 3}}


def test_bulk_deactivate_runs_but_changes_no_rostered_account(district, district_admin, rostered):
    action = bulk.bulk_action_start(
        district=district, actor=district_admin, kind="students", action="deactivate",
        params={}, users=rostered, enqueue=False,
    )  # fmt: skip
    action = bulk.bulk_action_run(action, action.run_token)

    assert action.skipped_count == 3 and action.changed_count == 0
    assert not User.objects.filter(district=district, status=Status.DEACTIVATED).exists()


def test_rostered_class_refuses_bulk_membership(district, district_admin, rostered):
    room = Classroom.objects.get(district=district, sis_id="cl-1")

    with pytest.raises(ValidationError, match="managed by your SIS"):
        bulk.bulk_action_preview(
            district=district, actor=district_admin, kind="students", action="classroom_add",
            params={"classroom": room.pk}, users=rostered,
        )  # fmt: skip


def test_password_reset_emails_still_reach_rostered_people(district, district_admin, rostered):
    preview = bulk.bulk_action_preview(
        district=district, actor=district_admin, kind="students", action="resend_invitation",
        params={}, users=rostered,
    )  # fmt: skip

    assert preview["change"] == 2  # Sia has no email
