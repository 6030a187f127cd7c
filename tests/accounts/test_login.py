"""Signing in: email or username, one answer for every failure, one hash each, throttling,
short sessions that end on deactivation, and the forced first change."""

import re

import argon2._password_hasher as argon2_verifier
import argon2.low_level as argon2_low_level
import pytest
from django.conf import settings

from accounts import services
from accounts.models import LoginEvent, Role, Status
from tests.factories import PASSWORD, InvitedUserFactory, UserFactory

FAILED = "The email address, username or password is not right"


def sign_in(client, identifier, password=PASSWORD, **extra):
    return client.post("/login/", {"identifier": identifier, "password": password}, **extra)


@pytest.mark.parametrize(
    "identifier",
    ["tom.teacher", "TOM.Teacher", "tom@alpha.example", "Tom@Alpha.Example", "  tom.teacher  "],
)
def test_signs_in_with_email_or_username_any_case(client_for, district, teacher, identifier):
    client = client_for(district)
    response = sign_in(client, identifier)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert "Welcome, Tom" in home.content.decode()
    assert LoginEvent.objects.get(user=teacher).succeeded


def test_user_of_another_district_cannot_sign_in_here(client_for, district, other_admin):
    response = sign_in(client_for(district), "bea.admin")
    assert FAILED in response.content.decode()
    response = sign_in(client_for(district), "bea@bravo.example")
    assert FAILED in response.content.decode()


@pytest.fixture
def hash_calls(monkeypatch):
    """Counts Argon2 computations, whether hashing a new password or verifying one."""
    calls = []
    # Django hashes through argon2.low_level and verifies through argon2.PasswordHasher.
    for module, name in ((argon2_low_level, "hash_secret"), (argon2_verifier, "verify_secret")):
        original = getattr(module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return calls


def _failure_cases(district, teacher):
    deactivated = UserFactory(district=district, username="dee", status=Status.DEACTIVATED)
    denied = UserFactory(district=district, username="gwen", role=Role.GUARDIAN, access_denied=True)
    invited = InvitedUserFactory(district=district, username="ivy")
    return {
        "unknown user": ("nobody.here", PASSWORD),
        "wrong password": (teacher.username, "wrong-password-1"),
        "deactivated": (deactivated.username, PASSWORD),
        "denied guardian": (denied.username, PASSWORD),
        "invited, no password yet": (invited.username, PASSWORD),
    }


def test_every_failure_gets_the_same_answer_and_one_hash(client_for, district, teacher, hash_calls):
    pages = {}
    for case, (identifier, password) in _failure_cases(district, teacher).items():
        hash_calls.clear()
        response = sign_in(client_for(district), identifier, password)
        assert response.status_code == 200, case
        assert len(hash_calls) == 1, f"{case}: {hash_calls}"
        body = response.content.decode()
        assert FAILED in body, case
        assert password not in body, f"{case}: the password must be cleared"
        # The page differs only by the identifier typed back into the form.
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
        pages[case] = body.replace(identifier, "IDENTIFIER")
    assert len(set(pages.values())) == 1


def test_unknown_and_wrong_password_take_similar_time(client_for, district, teacher):
    import time

    def median(identifier):
        times = []
        for _ in range(5):
            LoginEvent.objects.all().delete()
            start = time.perf_counter()
            sign_in(client_for(district), identifier, "wrong-password-1")
            times.append(time.perf_counter() - start)
        return sorted(times)[2]

    unknown, known = median("nobody.here"), median(teacher.username)
    assert 0.5 < unknown / known < 2.0, (unknown, known)


def test_failures_are_throttled_per_account(client_for, district, teacher, settings):
    limit = settings.LOGIN_THROTTLE["per_account"]
    for n in range(limit):
        sign_in(client_for(district), teacher.username, "wrong", REMOTE_ADDR=f"10.0.0.{n}")
    response = sign_in(client_for(district), teacher.username, REMOTE_ADDR="10.0.1.1")
    body = response.content.decode()
    assert "Too many attempts to sign in have failed" in body
    assert "Wait 15 minutes" in body
    assert "_auth_user_id" not in response.client.session
    # Another account from the same places is not locked out.
    assert sign_in(client_for(district), "ada.admin", REMOTE_ADDR="10.0.1.1").status_code == 200


def test_throttle_looks_the_same_for_unknown_accounts(client_for, district, settings):
    for _ in range(settings.LOGIN_THROTTLE["per_account"]):
        sign_in(client_for(district), "ghost", "wrong")
    assert "Too many attempts" in sign_in(client_for(district), "ghost").content.decode()


def test_failures_are_throttled_per_ip_across_accounts(client_for, district, teacher, settings):
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "per_ip": 3}
    for n in range(3):
        sign_in(client_for(district), f"guess{n}", "wrong", REMOTE_ADDR="203.0.113.9")
    response = sign_in(client_for(district), teacher.username, REMOTE_ADDR="203.0.113.9")
    assert "Too many attempts" in response.content.decode()
    ok = sign_in(client_for(district), teacher.username, REMOTE_ADDR="203.0.113.10")
    assert ok.status_code == 302


def test_empty_fields_get_messages_that_say_what_to_do(client_for, district):
    body = client_for(district).post("/login/", {"identifier": "", "password": ""}).content.decode()
    assert "There is a problem" in body
    assert "Enter your email address or username" in body
    assert "Enter your password" in body


def test_open_redirect_after_login_is_refused(client_for, district, teacher):
    client = client_for(district)
    response = client.post(
        "/login/?next=https://evil.example/",
        {"identifier": teacher.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_sessions_are_short_and_host_only():
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_COOKIE_DOMAIN is None


def test_deactivation_ends_existing_sessions_for_good(
    client_for, district, district_admin, teacher
):
    client = client_for(district)
    assert sign_in(client, teacher.username).status_code == 302
    assert client.get("/").status_code == 200
    services.user_deactivate(user=teacher, actor=district_admin)
    assert client.get("/")["Location"].startswith("/login/")
    services.user_reactivate(user=teacher, actor=district_admin)
    assert client.get("/")["Location"].startswith("/login/")


def test_session_of_one_district_means_nothing_on_another(
    client_for, district, other_district, teacher
):
    client = client_for(district)
    sign_in(client, teacher.username)
    response = client.get("/", HTTP_HOST="bravo.localhost")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_user_with_password_set_by_someone_else_must_change_it_first(
    client_for, district, district_admin, mailoutbox, django_capture_on_commit_callbacks
):
    student = services.user_create(
        district=district,
        actor=district_admin,
        role=Role.TEACHER,
        first_name="Kim",
        last_name="Lee",
        email="kim@alpha.example",
        password="given-by-admin-7",
    )
    client = client_for(district)
    response = client.post(
        "/login/", {"identifier": "kim.lee", "password": "given-by-admin-7"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/password/change/"
    assert "Your password was set by someone else" in response.content.decode()
    assert client.get("/settings/branding/")["Location"] == "/password/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/password/change/",
            {"current_password": "given-by-admin-7", "new_password": "kims-own-secret-9"},
        )
    assert response["Location"] == "/"
    student.refresh_from_db()
    assert not student.must_change_password
    assert client.get("/").status_code == 200  # still signed in after the change
    assert mailoutbox[-1].subject == "Your Rollbook password was changed – Alpha District"


def test_password_change_refuses_wrong_current_and_weak_new(client_for, district, teacher):
    client = client_for(district, teacher)
    body = client.post(
        "/password/change/", {"current_password": "nope", "new_password": "kims-own-secret-9"}
    ).content.decode()
    assert "Enter your current password correctly" in body
    body = client.post(
        "/password/change/", {"current_password": PASSWORD, "new_password": "12345678"}
    ).content.decode()
    assert "cannot be only numbers" in body
    teacher.refresh_from_db()
    assert teacher.check_password(PASSWORD)


def test_password_change_ends_other_sessions(client_for, district, teacher):
    other_browser = client_for(district)
    sign_in(other_browser, teacher.username)
    client = client_for(district)
    sign_in(client, teacher.username)
    client.post(
        "/password/change/", {"current_password": PASSWORD, "new_password": "brand-new-secret-5"}
    )
    assert client.get("/").status_code == 200
    assert other_browser.get("/").status_code == 302


def test_logout_needs_post_and_ends_the_session(client_for, district, teacher):
    client = client_for(district, teacher)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/", follow=True)
    assert "You have signed out." in response.content.decode()
    assert client.get("/").status_code == 302


def test_platform_operator_signs_in_only_on_the_bare_domain(client, db, district):
    from accounts.models import User

    User.objects.create_superuser("operator", "op@rollbook.test", "operator-pass-77")
    platform = client.post(
        "/admin/login/",
        {"username": "operator", "password": "operator-pass-77", "next": "/admin/"},
        HTTP_HOST="localhost",
    )
    assert platform.status_code == 302 and platform["Location"] == "/admin/"
    on_district = sign_in(client, "operator", "operator-pass-77", HTTP_HOST="alpha.localhost")
    assert FAILED in on_district.content.decode()
    assert client.get("/admin/", HTTP_HOST="alpha.localhost").status_code == 404


def test_district_admin_cannot_use_the_platform_admin(client, district_admin):
    response = client.post(
        "/admin/login/",
        {"username": district_admin.username, "password": PASSWORD},
        HTTP_HOST="localhost",
    )
    assert response.status_code == 200
    assert client.get("/admin/", HTTP_HOST="localhost").status_code == 302
