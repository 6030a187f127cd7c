"""Creating, deactivating and reactivating accounts through the services."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import ActivationToken, AuditEvent, Role, Status, User
from tests.factories import UserFactory


def create(district, actor=None, **fields):
    defaults = {
        "role": Role.TEACHER,
        "first_name": "Ana",
        "last_name": "Díaz",
        "email": "ana@alpha.example",
    }
    return services.user_create(district=district, actor=actor, **{**defaults, **fields})


def test_new_user_gets_username_from_district_pattern(district):
    user = create(district)
    assert user.username == "ana.diaz"
    assert user.status == Status.INVITED
    assert not user.has_usable_password()


def test_username_collision_gets_a_number(district):
    UserFactory(district=district, username="Ana.Diaz")
    assert create(district).username == "ana.diaz2"
    assert create(district, email="ana2@alpha.example").username == "ana.diaz3"


def test_username_pattern_with_initials(district):
    district.username_pattern = "{f}{last}"
    district.save()
    assert create(district, first_name="Zoë", last_name="O'Brien-Smith").username == "zobriensmith"


def test_same_username_is_free_in_another_district(district, other_district):
    UserFactory(district=other_district, username="ana.diaz")
    assert create(district).username == "ana.diaz"


def test_duplicate_email_is_refused_case_insensitively(district):
    UserFactory(district=district, email="Ana@Alpha.Example")
    with pytest.raises(ValidationError) as error:
        create(district, email="ana@alpha.example")
    assert "already uses this email" in error.value.message_dict["email"][0]
    assert User.objects.filter(district=district).count() == 1


def test_same_email_is_allowed_in_another_district(district, other_district):
    UserFactory(district=other_district, email="ana@alpha.example")
    assert create(district).email == "ana@alpha.example"


def test_typed_username_that_is_taken_is_refused(district):
    UserFactory(district=district, username="ana")
    with pytest.raises(ValidationError) as error:
        create(district, username="ANA")
    assert "taken" in error.value.message_dict["username"][0]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"first_name": "  "}, "first_name", "Enter a first name"),
        ({"last_name": ""}, "last_name", "Enter a last name"),
        ({"email": "not-an-email"}, "email", "correct format"),
        ({"email": ""}, "email", "Enter an email address"),
        ({"role": "headmaster"}, "role", "Select a role"),
        ({"username": "has space"}, "username", "no spaces"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(
    district, fields, field, message
):
    with pytest.raises(ValidationError) as error:
        create(district, **fields)
    assert message in " ".join(error.value.message_dict[field])
    assert not User.objects.filter(district=district).exists()
    assert not AuditEvent.objects.filter(district=district).exists()


def test_student_with_teacher_set_password_needs_no_email(district):
    user = create(district, role=Role.STUDENT, email="", password="purple-otter-42")
    assert user.status == Status.ACTIVE
    assert user.check_password("purple-otter-42")
    assert user.must_change_password


def test_students_exempt_from_forced_change_when_district_says_so(district):
    district.students_exempt_from_password_change = True
    district.save()
    student = create(district, role=Role.STUDENT, email="", password="purple-otter-42")
    teacher = create(district, email="t@alpha.example", password="purple-otter-42")
    assert not student.must_change_password
    assert teacher.must_change_password


def test_given_password_must_pass_policy(district):
    with pytest.raises(ValidationError) as error:
        create(district, role=Role.STUDENT, email="", password="short")
    assert "at least 8 characters" in error.value.message_dict["password"][0]
    with pytest.raises(ValidationError) as error:
        create(district, role=Role.STUDENT, email="", password="password123")
    assert "less common" in " ".join(error.value.message_dict["password"])


def test_district_minimum_password_length_applies(district):
    district.password_min_length = 14
    district.save()
    with pytest.raises(ValidationError) as error:
        create(district, role=Role.STUDENT, email="", password="purple-otter4")
    assert "at least 14 characters" in error.value.message_dict["password"][0]


def test_schools_of_another_district_are_refused(district, other_district):
    from tests.factories import SchoolFactory

    foreign = SchoolFactory(district=other_district)
    with pytest.raises(ValidationError):
        create(district, schools=[foreign])


def test_create_records_audit_event_and_emails_activation_after_commit(
    district, district_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create(district, actor=district_admin)
    created = AuditEvent.objects.get(action="accounts.user.created", target_id=user.pk)
    assert created.actor == district_admin
    assert created.district == district
    assert created.after["email"] == "ana@alpha.example"
    assert "password" not in created.after
    assert AuditEvent.objects.filter(action="accounts.activation.sent", target_id=user.pk).exists()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@alpha.example"]
    assert message.subject == "Activate your Rollbook account – Alpha District"
    assert "Ada Admin at Alpha District has created a Rollbook account for you" in message.body
    assert "Your username: ana.diaz" in message.body
    assert "http://alpha.localhost:8000/activate/" in message.body
    html = message.alternatives[0][0]
    assert "Activate account" in html and 'lang="en"' in html
    token = ActivationToken.objects.get(user=user)
    assert token.sent_at is not None
    assert token.token_hash not in message.body  # only the raw token travels


def test_no_email_is_sent_when_the_transaction_rolls_back(
    district, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                create(district)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert mailoutbox == []
    assert not User.objects.filter(district=district).exists()


def test_deactivate_voids_links_records_audit_and_is_idempotent(district, district_admin, teacher):
    from accounts.tokens import token_issue

    token, _raw = token_issue(user=teacher, purpose="reset", dispatch_key="k1")
    services.user_deactivate(user=teacher, actor=district_admin)
    teacher.refresh_from_db()
    token.refresh_from_db()
    assert teacher.status == Status.DEACTIVATED
    assert not teacher.is_active
    assert token.voided_at is not None
    events = AuditEvent.objects.filter(action="accounts.user.deactivated", target_id=teacher.pk)
    assert events.count() == 1
    assert events[0].before == {"status": "active"} and events[0].after == {"status": "deactivated"}
    services.user_deactivate(user=teacher, actor=district_admin)
    assert events.count() == 1


def test_admin_cannot_deactivate_themselves(district_admin):
    with pytest.raises(ValidationError):
        services.user_deactivate(user=district_admin, actor=district_admin)


def test_reactivate_restores_active_or_invited(district, district_admin, teacher):
    invited = create(district, email="new@alpha.example", send_invitation=False)
    for user in (teacher, invited):
        services.user_deactivate(user=user, actor=district_admin)
        services.user_reactivate(user=user, actor=district_admin)
        user.refresh_from_db()
    assert teacher.status == Status.ACTIVE
    assert invited.status == Status.INVITED
    assert AuditEvent.objects.filter(action="accounts.user.reactivated").count() == 2
