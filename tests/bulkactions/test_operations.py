"""The other bulk actions: role, class membership, emails and deletion, their skip
rules and undo."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role, Status, User
from bulkactions import services
from bulkactions.models import BulkAction
from schools.models import Enrollment
from tests.factories import ClassroomFactory, InvitedUserFactory, UserFactory


def start(capture, **kwargs):
    with capture(execute=True):
        action = services.bulk_action_start(**kwargs)
    return BulkAction.objects.get(pk=action.pk)


def undo(capture, action, actor):
    with capture(execute=True):
        done = services.bulk_action_undo(bulk_action=action, actor=actor)
    return BulkAction.objects.get(pk=done.pk)


def test_class_membership_added_then_undone(
    district, school, district_admin, django_capture_on_commit_callbacks
):
    room = ClassroomFactory(district=district, school=school, name="8B")
    kids = [UserFactory(district=district, role=Role.STUDENT, username=f"c{n}") for n in range(3)]
    Enrollment.objects.create(district=district, classroom=room, student=kids[0])
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="classroom_add",
        params={"classroom": room.pk},
        users=User.objects.filter(pk__in=[k.pk for k in kids]),
    )
    assert (action.changed_count, action.skipped_count) == (2, 1)
    assert action.items.get(user=kids[0]).message == "Already in this class"
    assert Enrollment.objects.filter(classroom=room).count() == 3
    reverted = undo(django_capture_on_commit_callbacks, action, district_admin)
    assert reverted.changed_count == 2
    assert list(Enrollment.objects.filter(classroom=room).values_list("student", flat=True)) == [
        kids[0].pk
    ]


def test_removing_from_a_class_skips_those_not_in_it(
    district, school, district_admin, django_capture_on_commit_callbacks
):
    room = ClassroomFactory(district=district, school=school, name="9C")
    kids = [UserFactory(district=district, role=Role.STUDENT, username=f"r{n}") for n in range(2)]
    Enrollment.objects.create(district=district, classroom=room, student=kids[0])
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="classroom_remove",
        params={"classroom": room.pk},
        users=User.objects.filter(pk__in=[k.pk for k in kids]),
    )
    assert (action.changed_count, action.skipped_count) == (1, 1)
    assert not Enrollment.objects.filter(classroom=room).exists()


def test_an_archived_or_foreign_class_is_refused(district, school, other_district, district_admin):
    from django.utils import timezone

    archived = ClassroomFactory(district=district, school=school, archived_at=timezone.now())
    foreign = ClassroomFactory(district=other_district)
    for room in (archived, foreign):
        with pytest.raises(ValidationError):
            services.bulk_action_start(
                district=district,
                actor=district_admin,
                kind="students",
                action="classroom_add",
                params={"classroom": room.pk},
                users=User.objects.filter(district=district),
            )


def test_role_change_is_for_district_admins_and_can_be_undone(
    district, district_admin, school_admin, teacher, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError):
        services.bulk_action_start(
            district=district,
            actor=school_admin,
            kind="staff",
            action="role",
            params={"role": Role.SCHOOL_ADMIN},
            users=User.objects.filter(pk=teacher.pk),
        )
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="role",
        params={"role": Role.SCHOOL_ADMIN},
        users=User.objects.filter(pk__in=[teacher.pk, district_admin.pk]),
    )
    assert User.objects.get(pk=teacher.pk).role == Role.SCHOOL_ADMIN
    assert action.items.get(user=district_admin).message == "You cannot change your own role"
    undo(django_capture_on_commit_callbacks, action, district_admin)
    assert User.objects.get(pk=teacher.pk).role == Role.TEACHER


def test_reset_and_invitation_emails_go_to_those_they_apply_to(
    district, district_admin, django_capture_on_commit_callbacks, mailoutbox
):
    active = UserFactory(district=district, role=Role.TEACHER, username="act", email="act@a.ex")
    invited = InvitedUserFactory(
        district=district, role=Role.TEACHER, username="inv", email="inv@a.ex"
    )
    no_email = UserFactory(district=district, role=Role.TEACHER, username="nomail", email="")
    people = User.objects.filter(pk__in=[active.pk, invited.pk, no_email.pk])
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="reset_email",
        params={},
        users=people,
    )
    assert (action.changed_count, action.skipped_count) == (2, 1)
    assert action.items.get(user=no_email).message == "No email address"
    recipients = sorted(
        m.to[0] for m in mailoutbox if "Import" not in m.subject and "Bulk" not in m.subject
    )
    assert recipients == ["act@a.ex", "inv@a.ex"]
    again = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="resend_invitation",
        params={},
        users=people,
    )
    assert again.changed_count == 1
    with pytest.raises(ValidationError):
        services.bulk_action_undo(bulk_action=again, actor=district_admin)


def test_delete_only_takes_deactivated_accounts(
    district, district_admin, django_capture_on_commit_callbacks
):
    gone = UserFactory(
        district=district, role=Role.STUDENT, username="gone", status=Status.DEACTIVATED
    )
    stays = UserFactory(district=district, role=Role.STUDENT, username="stays")
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="delete",
        params={},
        users=User.objects.filter(pk__in=[gone.pk, stays.pk]),
    )
    assert (action.changed_count, action.skipped_count) == (1, 1)
    assert not User.objects.filter(username="gone").exists()
    assert User.objects.filter(username="stays").exists()
    assert action.items.get(user_label__contains="(stays)").message == (
        "Not deactivated: deactivate first"
    )


def test_new_passwords_for_teacher_set_accounts_only_with_audited_credentials(
    client_for, district, district_admin, django_capture_on_commit_callbacks, mailoutbox
):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import AuditEvent, PasswordMode
    from bulkactions.tasks import purge_expired_credentials

    staff_set = UserFactory(
        district=district, role=Role.STUDENT, username="slip", password_mode=PasswordMode.STAFF
    )
    own = UserFactory(district=district, role=Role.STUDENT, username="own")
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="reset_password",
        params={"mode": "set", "password": "Harbour-Lantern-77"},
        users=User.objects.filter(pk__in=[staff_set.pk, own.pk]),
    )
    assert (action.changed_count, action.skipped_count) == (1, 1)
    assert "Harbour-Lantern-77" not in str(action.params)
    (summary,) = [m for m in mailoutbox if m.subject.startswith("Bulk action finished")]
    assert f"/settings/bulk-actions/{action.pk}/credentials/" in summary.body
    assert "Harbour-Lantern-77" not in summary.body + summary.attachments[0][1]
    changed = User.objects.get(pk=staff_set.pk)
    assert changed.check_password("Harbour-Lantern-77") and changed.must_change_password
    client = client_for(district, district_admin)
    csv = client.get(f"/settings/bulk-actions/{action.pk}/credentials/sign-in-details.csv")
    assert "Harbour-Lantern-77" in csv.content.decode("utf-8-sig")
    pdf = client.get(f"/settings/bulk-actions/{action.pk}/credentials/sign-in-details.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert (
        AuditEvent.objects.filter(action="bulkactions.bulk_action.credentials_downloaded").count()
        == 2
    )
    other = UserFactory(district=district, role=Role.DISTRICT_ADMIN, username="other.admin")
    assert (
        client_for(district, other)
        .get(f"/settings/bulk-actions/{action.pk}/credentials/")
        .status_code
        == 404
    )
    BulkAction.objects.filter(pk=action.pk).update(finished_at=timezone.now() - timedelta(days=10))
    assert (
        client.get(
            f"/settings/bulk-actions/{action.pk}/credentials/sign-in-details.csv"
        ).status_code
        == 410
    )
    purge_expired_credentials()
    assert not action.items.exclude(secret="").exists()


def test_a_weak_typed_password_is_refused_before_anything_runs(district, district_admin):
    with pytest.raises(ValidationError) as caught:
        services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="students",
            action="reset_password",
            params={"mode": "set", "password": "abc"},
            users=User.objects.filter(district=district),
        )
    assert "password" in caught.value.message_dict
    assert not BulkAction.objects.exists()


def test_staff_added_to_a_school_show_it_in_the_list_and_undo_takes_it_back(
    district, school, district_admin, teacher, django_capture_on_commit_callbacks
):
    from tests.factories import SchoolFactory

    beta = SchoolFactory(district=district, name="Beta Academy")
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="school_add",
        params={"school": beta.pk},
        users=User.objects.filter(pk=teacher.pk),
    )
    assert action.changed_count == 1
    moved = User.objects.get(pk=teacher.pk)
    assert set(moved.schools.values_list("name", flat=True)) == {"Alpha High", "Beta Academy"}
    assert moved.school_names == "Alpha High; Beta Academy"
    undo(django_capture_on_commit_callbacks, action, district_admin)
    back = User.objects.get(pk=teacher.pk)
    assert back.school_names == "Alpha High" and back.schools.count() == 1


def test_staff_join_a_class_as_teachers_and_undo_takes_them_off(
    district, school, district_admin, teacher, student, django_capture_on_commit_callbacks
):
    room = ClassroomFactory(district=district, school=school, name="10D")
    action = start(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="teacher_classroom_add",
        params={"classroom": room.pk},
        users=User.objects.filter(pk__in=[teacher.pk, student.pk]),
    )
    assert (action.changed_count, action.skipped_count) == (1, 1)
    assert list(room.teachers.all()) == [teacher]
    undo(django_capture_on_commit_callbacks, action, district_admin)
    assert not room.teachers.exists()
