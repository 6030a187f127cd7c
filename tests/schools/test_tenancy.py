"""Tenancy is absolute: hosts pick the district, scopes guard every query, and nothing of
one district can be seen or changed from another. The URL sweep below walks the whole URL
conf, so pages added later are covered without touching this file."""

import itertools
import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import ScopeError, scope

from accounts import services
from accounts.models import OutboxMessage, Role, User
from accounts.tokens import token_issue
from schools.models import District
from tests.factories import PASSWORD, SchoolFactory, UserFactory, YearGroupFactory

TENANT_APPS = {"schools", "accounts", "bulkactions", "rostering"}


def test_unknown_host_is_a_plain_404(client, db):
    response = client.get("/login/", HTTP_HOST="nowhere.localhost")
    assert response.status_code == 404
    assert "There is no Rollbook district at this address" in response.content.decode()


@pytest.mark.parametrize(
    "host",
    [
        "evil.example.com",
        "a.b.localhost",
        "-bad-.localhost",
        "localhost.evil.com",
        "alpha..localhost",
    ],
)
def test_hosts_that_name_no_district_are_refused(client, district, host):
    response = client.get("/login/", HTTP_HOST=host)
    assert response.status_code in (400, 404)
    assert "Alpha" not in response.content.decode()


@pytest.mark.parametrize("host", ["alpha.localhost:abc", "[::1", "al pha", "alpha.localhost:"])
def test_malformed_hosts_get_bad_request(client, district, host):
    assert client.get("/login/", HTTP_HOST=host).status_code == 400


def test_custom_domain_serves_its_district(client, district, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "accounts.alpha.org"]
    district.custom_domain = "accounts.alpha.org"
    district.save()
    response = client.get("/login/", HTTP_HOST="accounts.alpha.org")
    assert "Sign in to Alpha District" in response.content.decode()


def test_bare_domain_serves_only_the_platform_landing(client, district):
    body = client.get("/", HTTP_HOST="localhost").content.decode()
    assert "Each district signs in at its own address" in body
    assert "Alpha" not in body
    assert client.get("/login/", HTTP_HOST="localhost").status_code == 404


def test_every_tenant_model_has_a_district_and_refuses_unscoped_queries(db):
    for model in apps.get_models():
        if model._meta.app_label not in TENANT_APPS or model is District:
            continue
        field = model._meta.get_field("district")
        assert field.related_model is District, model
        assert field.null is False or model is User or model is OutboxMessage, model
        with scope():  # a scope that names no district
            with pytest.raises(ScopeError):
                list(model.objects.all())


def test_a_query_inside_one_district_sees_nothing_of_another(district, other_district):
    SchoolFactory(district=other_district, name="Bravo High")
    with scope(district=district):
        from schools.models import School

        assert list(School.objects.values_list("name", flat=True)) == []


def test_task_given_another_districts_user_does_nothing(district, other_admin, mailoutbox):
    from accounts.tasks import send_token_email

    send_token_email.delay(district.pk, other_admin.pk, "reset", "key-x", None)
    assert mailoutbox == []


# The sweep


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.pattern.converters


@pytest.fixture
def bravo(other_district, mailoutbox, django_capture_on_commit_callbacks):
    """District B with private data that must never show up for district A."""
    from io import BytesIO

    from PIL import Image

    admin = UserFactory(
        district=other_district,
        role=Role.DISTRICT_ADMIN,
        username="bravo.boss",
        first_name="Brunhilde",
        last_name="Bossley",
        email="brunhilde@bravo.example",
    )
    school = SchoolFactory(district=other_district, name="Bravo Secret Academy")
    with django_capture_on_commit_callbacks(execute=True):
        invited = services.user_create(
            district=other_district,
            actor=admin,
            role=Role.TEACHER,
            first_name="Wilhelmina",
            last_name="Quixote",
            email="wilhelmina@bravo.example",
            schools=[school],
        )
    _token, raw = token_issue(user=invited, purpose="activate", dispatch_key="bravo-k")
    image = BytesIO()
    Image.new("RGB", (20, 20), "purple").save(image, "PNG")
    other_district.logo, other_district.logo_content_type = image.getvalue(), "image/png"
    other_district.logo_version = 3
    other_district.save()
    from bulkactions import services as imports
    from bulkactions.models import ImportJob

    YearGroupFactory(district=other_district, ordinal=7, name="Year 7")
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_start(
            district=other_district,
            actor=admin,
            kind="students",
            file_name="bravo-secret-file.csv",
            data=b"First name,Last name,Year,School\nZebedee,Secretrow,Year 7,Bravo Secret Academy\n"
            b"Yolanda,Hiddenrow,Year 99,Bravo Secret Academy\n",
            password_mode="set",
        )
    job = ImportJob.objects.get(pk=job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        bulk_action = imports.bulk_action_start(
            district=other_district,
            actor=admin,
            kind="staff",
            action="deactivate",
            params={},
            users=User.objects.filter(pk=invited.pk),
            selection="Bravo secret selection",
        )
    bulk_action.refresh_from_db()
    assert bulk_action.changed_count == 1
    assert job.status == "review", job.failure
    from rostering import services as rostering
    from tests.rostering import roster

    connection = rostering.connection_create(
        district=other_district, actor=admin, name="Bravo Secret SIS", kind="rest",
        url="https://sis.bravo.example/ims/oneroster/v1p1", auth="oauth1",
        client_id="bravo-key", secret="bravo-secret-value", schedule="daily",
    )  # fmt: skip
    uploads = rostering.connection_create(
        district=other_district, actor=admin, name="Bravo uploads", kind="csv_upload",
        schedule="manual",
    )  # fmt: skip
    rows = roster.changed(roster.tiny(), "users.csv", "s1", givenName="Rostereta")
    run = rostering.run_start(
        connection=uploads, actor=admin, trigger="upload", bundle=roster.zipped(rows),
        bundle_name="bravo-roster.zip", enqueue=False,
    )  # fmt: skip
    rostering.run_claim(run)
    run = rostering.run_execute(run=run)
    assert run.status == "applied", run.errors
    held = rostering.run_start(
        connection=uploads, actor=admin, trigger="upload",
        bundle=roster.zipped(roster.without(rows, "users.csv", "s2", "s3")),
        bundle_name="bravo-held.zip", enqueue=False,
    )  # fmt: skip
    rostering.run_claim(held)
    held = rostering.run_execute(run=held)
    assert held.status == "held"
    message = OutboxMessage.objects.create(
        district=other_district,
        to="wilhelmina@bravo.example",
        subject="Bravo private mail",
        body_text="secret",
    )
    return {
        "district": other_district,
        "ids": sorted(
            {admin.pk, invited.pk, school.pk, message.pk, job.pk, bulk_action.pk, 2, 3}
            | {connection.pk, uploads.pk, run.pk, held.pk}
        ),
        "job": job,
        "tokens": [raw],
        "markers": [
            "Brunhilde",
            "Wilhelmina",
            "bravo.boss",
            "brunhilde@bravo.example",
            "Bravo Secret Academy",
            "Bravo private mail",
            "Zebedee",
            "Hiddenrow",
            "bravo-secret-file.csv",
            "Bravo secret selection",
            "Bravo Secret SIS",
            "Bravo uploads",
            "bravo-roster.zip",
            "Rostereta",
            "bravo-secret-value",
            "sis.bravo.example",
        ],
        "users": [admin, invited],
    }


def _paths(bravo, tokens):
    for route, _converters in _patterns(get_resolver()):
        names = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        choices = []
        for kind, _name in names:
            choices.append(tokens if kind in ("str", "") else bravo["ids"])
        for values in itertools.product(*choices):
            path = route
            for value in values:
                path = re.sub(r"<[^>]+>", str(value), path, count=1)
            yield "/" + path.lstrip("^").rstrip("$")


def _state(bravo):
    district = District.objects.get(pk=bravo["district"].pk)
    users = User.objects.filter(district=district).order_by("pk")
    return (
        [(u.pk, u.status, u.password, u.email, u.must_change_password) for u in users],
        (
            district.brand_colour,
            district.contact_line,
            district.username_pattern,
            district.logo_version,
        ),
        list(district.users.values_list("tokens__used_at", "tokens__voided_at")),
        list(bravo["job"].rows.values_list("number", "status", "values").order_by("number")),
        type(bravo["job"]).objects.get(pk=bravo["job"].pk).status,
        _rostering_state(district),
    )


def _rostering_state(district):
    from rostering.models import RosterConnection, SyncRun

    return (
        list(
            RosterConnection.objects.filter(district=district)
            .order_by("pk")
            .values_list("name", "url", "secret_sealed", "is_enabled", "next_run_at")
        ),
        list(SyncRun.objects.filter(district=district).order_by("pk").values_list("status")),
    )


def test_no_url_shows_or_changes_anything_of_another_district(
    client_for, district, district_admin, bravo, settings
):
    settings.DEBUG = True  # the dev outbox is swept too
    before = _state(bravo)
    alpha_client = client_for(district, district_admin)
    session = alpha_client.cookies["sessionid"].value
    paths = list(_paths(bravo, [*bravo["tokens"], "x"]))
    assert len(paths) > 10
    checked = 0
    for path in paths:
        # A's session on A's host, with B's ids and tokens.
        for method in ("get", "post"):
            response = getattr(alpha_client, method)(
                path, {"password": "hijack-attempt-99", "brand_colour": "#000000"}
            )
            body = response.content.decode(errors="replace")
            for marker in bravo["markers"]:
                assert marker not in body, f"{method.upper()} {path} on A's host shows {marker}"
            assert response.get("Content-Type", "").startswith("image/") is False or (
                response.status_code != 200
            ), f"{path} served B's logo on A's host"
            checked += 1
        # A's session cookie on B's host: A is nobody there and sees nothing private.
        # (The DEBUG-only outbox is open to whoever runs a dev server, by design; and a
        # link's token is its holder's credential on its own host, so B's real token is
        # not replayed there.)
        if path.startswith("/dev/outbox/") or any(t in path for t in bravo["tokens"]):
            continue
        for method in ("get", "post"):
            b_client = client_for(bravo["district"])
            b_client.cookies["sessionid"] = session
            response = getattr(b_client, method)(path, {"password": "hijack-attempt-99"})
            body = response.content.decode(errors="replace")
            for marker in [*bravo["markers"], "Ada Admin"]:
                assert marker not in body, f"{method.upper()} {path} on B's host shows {marker}"
            checked += 1
    assert _state(bravo) == before
    assert checked >= 2 * len(paths)


def test_signed_in_pages_need_a_user_of_this_district(client_for, district, other_admin):
    client = client_for(district)
    client.force_login(other_admin, backend="accounts.backends.DistrictBackend")
    response = client.get("/settings/branding/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_of_another_districts_user_fails_on_this_host(client_for, district, other_admin):
    response = client_for(district).post(
        "/login/", {"identifier": other_admin.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "not right" in response.content.decode()
