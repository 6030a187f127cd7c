"""District IT's commands: create_district, create_admin, seed_demo."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent, Role, Status, User
from schools.models import District, School, YearGroup


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_district_with_year_groups(db):
    out = run(
        "create_district",
        "--slug",
        "northfield",
        "--name",
        "Northfield Schools",
        "--year-groups",
        "1-3",
    )
    assert "Created Northfield Schools at http://northfield.localhost:8000/" in out
    district = District.objects.get(slug="northfield")
    years = list(YearGroup.objects.filter(district=district))
    assert [y.name for y in years] == ["Year 1", "Year 2", "Year 3"]
    assert years[0].next == years[1] and years[2].next is None
    assert AuditEvent.objects.filter(district=district, action="schools.district.created")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "Bad Slug", "--name", "X"], "lowercase letters"),
        (["--slug", "admin", "--name", "X"], "reserved"),
        (["--slug", "ok", "--name", "  "], "Enter the district's name"),
        (["--slug", "ok", "--name", "X", "--domain", "not a domain"], "Enter a domain name"),
        (["--slug", "ok", "--name", "X", "--year-groups", "13-7"], "FIRST <= LAST"),
        (["--slug", "ok", "--name", "X", "--year-groups", "seven"], "like 7-13"),
    ],
)
def test_create_district_refuses_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_district", *args)
    assert not District.objects.exists()


def test_create_district_refuses_a_taken_slug(district):
    with pytest.raises(CommandError, match="already exists"):
        run("create_district", "--slug", "alpha", "--name", "Again")


def test_create_admin_sends_activation(district, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = run(
            "create_admin",
            "--district",
            "alpha",
            "--email",
            "it@alpha.example",
            "--first-name",
            "Ines",
            "--last-name",
            "Tech",
        )
    assert "has been sent an activation email" in out
    user = User.objects.get(email="it@alpha.example")
    assert user.role == Role.DISTRICT_ADMIN and user.status == Status.INVITED
    assert mailoutbox[0].to == ["it@alpha.example"]


def test_create_admin_with_password_can_sign_in(district, client_for):
    run(
        "create_admin",
        "--district",
        "alpha",
        "--email",
        "it@alpha.example",
        "--first-name",
        "Ines",
        "--last-name",
        "Tech",
        "--password",
        "long-enough-pass-1",
    )
    response = client_for(district).post(
        "/login/", {"identifier": "it@alpha.example", "password": "long-enough-pass-1"}
    )
    assert response.status_code == 302


def test_create_admin_for_unknown_district_lists_known_ones(district):
    with pytest.raises(CommandError, match="No district has the slug 'nope'.*alpha"):
        run(
            "create_admin",
            "--district",
            "nope",
            "--email",
            "a@b.org",
            "--first-name",
            "A",
            "--last-name",
            "B",
        )


def test_create_admin_with_duplicate_email_says_which_option(district, district_admin):
    with pytest.raises(CommandError, match="--email: Another account"):
        run(
            "create_admin",
            "--district",
            "alpha",
            "--email",
            district_admin.email,
            "--first-name",
            "A",
            "--last-name",
            "B",
        )


def test_create_admin_refuses_a_weak_password(district):
    with pytest.raises(CommandError, match="--password: Enter a password with at least 8"):
        run(
            "create_admin",
            "--district",
            "alpha",
            "--email",
            "a@alpha.example",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--password",
            "short",
        )
    assert not User.objects.exists()


def test_seed_demo_builds_a_demo_district_once(db, mailoutbox, client_for):
    out = run("seed_demo", "--students", "40")
    assert "Sign in as admin with the password rollbook-demo-2026" in out
    demo = District.objects.get(slug="demo")
    users = User.objects.filter(district=demo)
    manual = users.filter(managed_by_sis=False)
    assert manual.filter(role=Role.STUDENT).count() == 40
    assert manual.filter(role=Role.DISTRICT_ADMIN).count() == 1
    assert manual.filter(role=Role.TEACHER).count() == 12
    assert School.objects.filter(district=demo, sis_id="").count() == 2
    # A third school comes from the demo SIS: one applied sync of 40 rostered students.
    assert users.filter(managed_by_sis=True, role=Role.STUDENT).count() == 40
    assert School.objects.filter(district=demo).exclude(sis_id="").count() == 1
    response = client_for(demo).post(
        "/login/", {"identifier": "admin", "password": "rollbook-demo-2026"}
    )
    assert response["Location"] == "/"
    assert "exists" in run("seed_demo", "--if-missing")
    with pytest.raises(CommandError, match="already exists"):
        run("seed_demo")


def test_commands_have_help():
    for name in ("create_district", "create_admin", "seed_demo", "serve"):
        from django.core.management import load_command_class

        assert (
            len(load_command_class("schools" if name != "create_admin" else "accounts", name).help)
            > 40
        )
