"""Activation and reset links: hashed, single-use, bound to user, district and purpose,
expiring, voided on reissue, deactivation and password change."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ActivationToken, AuditEvent, Role, Status
from accounts.tokens import token_issue
from tests.factories import PASSWORD, InvitedUserFactory, UserFactory

NEW_PASSWORD = "a-brand-new-secret-4"


def link_path(message) -> str:
    return re.search(r"http://[^/\s]+(/\S+/)", message.body).group(1)


@pytest.fixture
def invited(district):
    return InvitedUserFactory(
        district=district, username="ivy.invited", first_name="Ivy", email="ivy@alpha.example"
    )


@pytest.fixture
def send(django_capture_on_commit_callbacks, mailoutbox):
    """Runs a service call with its after-commit emails and returns the last email."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            call(*args, **kwargs)
        return mailoutbox[-1] if mailoutbox else None

    return run


def test_activation_stores_only_the_hash_and_signs_the_user_in(
    client_for, district, district_admin, invited, send
):
    message = send(services.activation_send, user=invited, actor=district_admin)
    path = link_path(message)
    raw = path.split("/")[2]
    token = ActivationToken.objects.get(user=invited)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ActivationToken.objects.values()))
    client = client_for(district)
    page = client.get(path)
    assert "Create a password" in page.content.decode()
    assert "ivy.invited" in page.content.decode()
    response = client.post(path, {"password": NEW_PASSWORD}, follow=True)
    body = response.content.decode()
    assert "Your account is active and you are signed in." in body
    assert "Welcome, Ivy" in body
    invited.refresh_from_db()
    assert invited.status == Status.ACTIVE and invited.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="accounts.user.activated", target_id=invited.pk, actor=invited
    ).exists()


def test_used_link_cannot_be_used_again(client_for, district, district_admin, invited, send):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    client_for(district).post(path, {"password": NEW_PASSWORD})
    response = client_for(district).get(path)
    assert response.status_code == 410
    assert "This link has already been used" in response.content.decode()
    again = client_for(district).post(path, {"password": "another-secret-99"})
    assert again.status_code == 410
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)


def test_expired_link_shows_why_and_how_to_get_a_new_one(
    client_for, district, district_admin, invited, send
):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    ActivationToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(district).get(path)
    body = response.content.decode()
    assert response.status_code == 410
    assert "This link has expired" in body
    assert 'href="/password/forgot/"' in body


def test_link_lifetimes_follow_district_settings(district, invited, teacher):
    district.activation_days, district.reset_hours = 3, 2
    district.save()
    invited.district.refresh_from_db()
    activation, _ = token_issue(user=invited, purpose="activate", dispatch_key="a")
    reset, _ = token_issue(user=teacher, purpose="reset", dispatch_key="r")
    assert abs((activation.expires_at - timezone.now()) - timedelta(days=3)) < timedelta(minutes=1)
    assert abs((reset.expires_at - timezone.now()) - timedelta(hours=2)) < timedelta(minutes=1)


def test_new_link_voids_the_old_one(client_for, district, district_admin, invited, send):
    first = link_path(send(services.activation_send, user=invited, actor=district_admin))
    second = link_path(send(services.activation_send, user=invited, actor=district_admin))
    assert first != second
    response = client_for(district).get(first)
    assert response.status_code == 410
    assert "This link does not work any more" in response.content.decode()
    assert client_for(district).get(second).status_code == 200


def test_deactivation_voids_links(client_for, district, district_admin, invited, send):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    services.user_deactivate(user=invited, actor=district_admin)
    assert client_for(district).get(path).status_code == 410


@pytest.mark.parametrize("raw", ["tampered", "x" * 43, "x" * 500, "%00"])
def test_tampered_or_unknown_token_is_refused(client_for, district, raw):
    response = client_for(district).get(f"/activate/{raw}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()


def test_link_is_bound_to_its_district(
    client_for, district, other_district, district_admin, invited, send
):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    response = client_for(other_district).get(path)
    assert response.status_code == 400
    assert "Ivy" not in response.content.decode()
    assert client_for(other_district).post(path, {"password": NEW_PASSWORD}).status_code == 400
    invited.refresh_from_db()
    assert invited.status == Status.INVITED


def test_link_is_bound_to_its_purpose(client_for, district, district_admin, invited, send):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    raw = path.split("/")[2]
    assert client_for(district).get(f"/password/reset/{raw}/").status_code == 400


def test_weak_password_on_activation_keeps_the_link_usable(
    client_for, district, district_admin, invited, send
):
    path = link_path(send(services.activation_send, user=invited, actor=district_admin))
    response = client_for(district).post(path, {"password": "ivy"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Enter a password with at least 8 characters" in body
    assert client_for(district).get(path).status_code == 200


def test_activation_email_is_not_sent_to_active_users(district, district_admin, teacher):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.activation_send(user=teacher, actor=district_admin)


def test_retried_email_task_sends_nothing_twice(district, invited, mailoutbox):
    from accounts.tasks import send_token_email

    send_token_email.delay(district.pk, invited.pk, "activate", "dispatch-1", None)
    send_token_email.delay(district.pk, invited.pk, "activate", "dispatch-1", None)
    assert len(mailoutbox) == 1
    assert ActivationToken.objects.filter(user=invited).count() == 1


# Forgotten password


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(
    client_for, district, teacher, mailoutbox, django_capture_on_commit_callbacks
):
    answers = []
    for identifier in ("tom@alpha.example", "nobody@alpha.example", "nobody"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(district).post(
                "/password/forgot/", {"identifier": identifier}, follow=True
            )
        answers.append((response.redirect_chain, response.status_code))
        assert "Check your email" in response.content.decode()
    assert len(set(map(str, answers))) == 1
    assert [m.to for m in mailoutbox] == [["tom@alpha.example"]]
    assert mailoutbox[0].subject == "Reset your Rollbook password – Alpha District"


def test_reset_link_sets_a_new_password_and_emails_a_notice(
    client_for, district, teacher, send, mailoutbox, django_capture_on_commit_callbacks
):
    message = send(services.password_reset_request, district=district, identifier="tom.teacher")
    path = link_path(message)
    assert path.startswith("/password/reset/")
    assert "works once, until" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(district).post(path, {"password": NEW_PASSWORD}, follow=True)
    assert "Your password has been changed and you are signed in." in response.content.decode()
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    assert mailoutbox[-1].subject == "Your Rollbook password was changed – Alpha District"
    assert NEW_PASSWORD not in mailoutbox[-1].body
    assert AuditEvent.objects.filter(action="accounts.password.reset", target_id=teacher.pk)


def test_password_change_voids_outstanding_reset_links(client_for, district, teacher, send):
    path = link_path(
        send(services.password_reset_request, district=district, identifier="tom.teacher")
    )
    services.password_change(user=teacher, current_password=PASSWORD, new_password=NEW_PASSWORD)
    assert client_for(district).get(path).status_code == 410


def test_forgot_password_for_invited_user_sends_a_new_activation_link(district, invited, send):
    message = send(services.password_reset_request, district=district, identifier="ivy.invited")
    assert message.subject.startswith("Activate your Rollbook account")


def test_forgot_password_sends_nothing_to_deactivated_or_other_district_users(
    district, other_district, send, mailoutbox
):
    UserFactory(district=district, username="gone", status=Status.DEACTIVATED)
    UserFactory(district=other_district, username="elsewhere", email="else@bravo.example")
    send(services.password_reset_request, district=district, identifier="gone")
    send(services.password_reset_request, district=district, identifier="else@bravo.example")
    assert mailoutbox == []


def test_reset_requests_are_capped_per_user(district, teacher, send, mailoutbox):
    for _ in range(8):
        send(services.password_reset_request, district=district, identifier="tom.teacher")
    assert len(mailoutbox) == 5


def test_admin_set_password_forces_a_change_and_is_audited(district, district_admin, teacher):
    services.password_set_by_admin(user=teacher, password="set-by-admin-55", actor=district_admin)
    teacher.refresh_from_db()
    assert teacher.must_change_password and teacher.check_password("set-by-admin-55")
    event = AuditEvent.objects.get(action="accounts.password.set_by_admin")
    assert event.actor == district_admin and "set-by-admin-55" not in str(event.after)


def test_emails_carry_branding_contact_line_and_no_password(
    district, district_admin, invited, send
):
    district.contact_line = "Call the district office on 01632 960 123"
    district.brand_colour = "#7a1f5c"
    district.save()
    invited.district.refresh_from_db()
    message = send(services.activation_send, user=invited, actor=district_admin)
    html = message.alternatives[0][0]
    assert "Call the district office on 01632 960 123" in message.body
    assert "Call the district office on 01632 960 123" in html
    assert "#7a1f5c" in html
    assert 'role="presentation"' in html
    assert link_path(message) in html
    assert PASSWORD not in message.body and PASSWORD not in html


def test_student_without_email_is_not_sent_anything(district, district_admin, send):
    student = services.user_create(
        district=district,
        actor=district_admin,
        role=Role.STUDENT,
        first_name="Pip",
        last_name="Young",
        password="teacher-set-pass-1",
    )
    assert (
        send(services.password_reset_request, district=district, identifier=student.username)
        is None
    )
