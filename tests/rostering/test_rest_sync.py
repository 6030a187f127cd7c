"""A REST connection end to end: the services fetch from a real OneRoster server over
HTTP, write the fetch as a bundle and sync it; errors mid-paging apply nothing."""

import pytest

from accounts.models import User
from rostering import services
from rostering.models import RunStatus, Trigger
from rostering.oneroster import spec
from tests.rostering import roster


@pytest.fixture
def rest_connection(district, oneroster_server, settings):
    settings.ROSTER_HTTP_TIMEOUT = 1.0

    def make(rows, version=spec.V1_1, **options):
        server = oneroster_server(rows, version=version, client_id="id", client_secret="secret")
        connection = services.connection_create(
            district=district, actor=None, name=f"REST {version}", kind="rest", version=version,
            url=server.base_url, token_url=server.token_url, auth="oauth2", client_id="id",
            secret="secret", schedule="hourly", **options,
        )  # fmt: skip
        return server, connection

    return make


def run_now(connection):
    run = services.run_start(
        connection=connection, actor=None, trigger=Trigger.MANUAL, enqueue=False
    )
    assert services.run_claim(run)
    return services.run_execute(run=run)


@pytest.mark.parametrize("version", [spec.V1_1, spec.V1_2])
def test_rest_sync_creates_the_roster(district, rest_connection, version):
    server, connection = rest_connection(roster.tiny(version), version)

    run = run_now(connection)

    assert run.status == RunStatus.APPLIED, run.errors
    assert User.objects.filter(district=district, managed_by_sis=True).count() == 5
    assert services.connection_test(connection=connection).startswith("Connected")


def test_second_fetch_is_a_delta_by_date_last_modified(district, rest_connection):
    server, connection = rest_connection(roster.tiny())
    run_now(connection)

    run = run_now(connection)

    assert run.status == RunStatus.APPLIED, run.errors
    assert run.is_delta
    assert any("dateLastModified" in r.target for r in server.requests_to("users"))


def test_500_mid_paging_fails_the_run_and_applies_nothing(district, rest_connection):
    server, connection = rest_connection(roster.tiny())
    server.fail("enrollments", nth=1, status=500)

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "500" in run.errors[0]["message"] and "enrollments" in run.errors[0]["file"]
    assert not User.objects.filter(district=district, managed_by_sis=True).exists()


def test_wrong_secret_fails_with_a_credentials_message(district, rest_connection):
    server, connection = rest_connection(roster.tiny())
    services.connection_update(connection=connection, actor=None, secret="wrong")

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "credentials" in run.errors[0]["message"].lower()
    assert "wrong" not in str(run.errors)


def test_timeout_fails_the_run(district, rest_connection):
    server, connection = rest_connection(roster.tiny())
    server.fail("users", nth=1, hang=3)

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "did not answer" in run.errors[0]["message"]


def test_oauth1_connection_syncs_a_1_1_server(district, oneroster_server):
    server = oneroster_server(
        roster.tiny(), version=spec.V1_1, client_id="key", client_secret="sh", auth="oauth1"
    )
    connection = services.connection_create(
        district=district, actor=None, name="ClassLink", kind="rest", version=spec.V1_1,
        url=server.base_url, auth="oauth1", client_id="key", secret="sh", schedule="daily",
    )  # fmt: skip

    run = run_now(connection)

    assert run.status == RunStatus.APPLIED, run.errors
    assert User.objects.filter(district=district, managed_by_sis=True).count() == 5


def test_test_connection_button_reports_what_it_found(
    district, rest_connection, client_for, district_admin
):
    server, connection = rest_connection(roster.tiny())
    client = client_for(district, district_admin)

    page = client.post(
        f"/settings/rostering/connections/{connection.pk}/test/", follow=True
    ).content.decode()

    assert "Connected: 2 orgs" in page
    server.fail("orgs", nth=1, status=401, times=5)
    page = client.post(
        f"/settings/rostering/connections/{connection.pk}/test/", follow=True
    ).content.decode()
    assert "Connection “REST 1.1” failed" in page


@pytest.fixture
def bundle_host():
    """A web server on localhost publishing one bundle at /roster.zip (404 elsewhere)."""
    import http.server
    import threading

    published = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = published.get(self.path.split("?")[0])
            if isinstance(body, str):  # a redirect to that address
                self.send_response(302)
                self.send_header("Location", body)
                self.end_headers()
                return
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield published, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_bundle_fetched_from_an_address_on_the_schedule(district, bundle_host):
    published, base = bundle_host
    published["/roster.zip"] = roster.zipped(roster.tiny())
    connection = services.connection_create(
        district=district, actor=None, name="Nightly export", kind="csv_url",
        url=f"{base}/roster.zip", schedule="daily",
    )  # fmt: skip
    connection.next_run_at = connection.next_run_at.replace(year=2020)
    connection.save()

    (run_id,) = services.runs_dispatch_due()
    run = services.SyncRun.objects.get(pk=run_id)
    assert services.run_claim(run)
    run = services.run_execute(run=run)

    assert run.status == RunStatus.APPLIED, run.errors
    assert run.trigger == Trigger.SCHEDULE
    assert User.objects.filter(district=district, managed_by_sis=True).count() == 5
    assert "a OneRoster 1.1 bundle with 5 users" in services.connection_test(connection=connection)


def test_missing_published_bundle_fails_with_the_status(district, bundle_host):
    _published, base = bundle_host
    connection = services.connection_create(
        district=district, actor=None, name="Nightly export", kind="csv_url",
        url=f"{base}/gone.zip", schedule="daily",
    )  # fmt: skip

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "answered HTTP 404" in run.errors[0]["message"]


def test_moving_a_connection_needs_its_secret_again(district, rest_connection):
    from django.core.exceptions import ValidationError

    server, connection = rest_connection(roster.tiny())

    with pytest.raises(ValidationError) as refused:
        services.connection_update(
            connection=connection, actor=None, token_url="https://attacker.example/token"
        )

    assert "Enter the client secret again" in str(refused.value)
    connection.refresh_from_db()
    assert connection.token_url == server.token_url


def test_local_addresses_are_refused_unless_allowed(district, settings):
    from django.core.exceptions import ValidationError

    settings.ROSTER_ALLOW_LOCAL_URLS = False

    with pytest.raises(ValidationError, match="https://"):
        services.connection_create(
            district=district, actor=None, name="Local", kind="csv_url",
            url="http://127.0.0.1:8000/export.zip", schedule="daily",
        )  # fmt: skip


def test_bundle_redirects_are_not_followed_and_tokens_never_shown(district, bundle_host):
    published, base = bundle_host
    published["/roster.zip"] = roster.zipped(roster.tiny())
    published["/moved.zip"] = f"{base}/roster.zip"
    connection = services.connection_create(
        district=district, actor=None, name="Export", kind="csv_url",
        url=f"{base}/moved.zip?token=s3cr3t", schedule="daily",
    )  # fmt: skip

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "HTTP 302" in run.errors[0]["message"]
    assert "redirects are not followed" in run.errors[0]["message"]
    assert "s3cr3t" not in str(run.errors)
    from accounts.models import AuditEvent

    assert "s3cr3t" not in str(AuditEvent.objects.filter(action__startswith="rostering").values())


@pytest.mark.parametrize(
    "url", ["https://10.1.2.3/export.zip", "https://169.254.169.254/latest/meta-data/"]
)
def test_private_network_addresses_are_refused(district, settings, url):
    settings.ROSTER_ALLOW_LOCAL_URLS = False
    connection = services.connection_create(
        district=district, actor=None, name="Inside", kind="csv_url", url=url, schedule="daily"
    )

    run = run_now(connection)

    assert run.status == RunStatus.FAILED
    assert "private network" in run.errors[0]["message"]
