"""The OneRoster REST client against a real HTTP server: what comes back, how it pages,
authenticates and fails (rostering/oneroster/rest.py)."""

import csv
import io
import json
import logging
import socket
import textwrap
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from rostering.oneroster import rest, spec
from rostering.oneroster.errors import SourceError
from rostering.oneroster.rest import RestSource

SECRET = "s3cret-Zebra-42"


def _row(version, file, **values):
    return dict.fromkeys(spec.COLUMNS[version][file], "") | values


def _empty(version):
    return {file: [] for file in spec.COLUMNS[version]}


def _source(server, **options):
    options = {
        "client_id": "id",
        "client_secret": server.client_secret,
        "token_url": server.token_url,
        "auth": server.auth,
    } | options
    return RestSource(server.base_url, server.version, **options)


def _csv(version, file, text):
    """Rows of `file` from CSV text that names only the columns it fills."""
    lines = io.StringIO(textwrap.dedent(text).strip())
    return [_row(version, file, **values) for values in csv.DictReader(lines)]


def _roster(version):
    """A small district with every reference kind: parents, lists of orgs, terms, agents."""
    rows = {
        "orgs.csv": """
            sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
            org-d,active,2025-08-01T06:00:00.000Z,Alpha District,district,,
            org-s1,active,,North Elementary,school,N1,org-d
            org-s2,active,,South Middle,school,,org-d
        """,
        "academicSessions.csv": """
            sourcedId,status,title,type,startDate,endDate,parentSourcedId,schoolYear
            as-y,active,2025-26,schoolYear,2025-08-15,2026-06-15,,2026
            as-t1,active,Fall,term,2025-08-15,2025-12-20,as-y,2026
            as-t2,active,Spring,term,2026-01-05,2026-06-15,as-y,2026
        """,
        "courses.csv": """
            sourcedId,status,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
            crs-1,active,as-y,Math 5,M5,"05,06",org-s1,"Math,Science",MA
        """,
        "classes.csv": """
            sourcedId,status,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,periods
            cls-1,active,Math 5A,05,crs-1,M5A,scheduled,Room 12,org-s1,"as-t1,as-t2",Math,"1,2"
        """,
        "users.csv": """
            sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,phone,agentSourcedIds,grades
            usr-1,active,2025-08-01T06:00:00.000Z,true,ava.smith,"{LDAP:ava.smith},{LTI:15}",Ava,Smith,J,S0001,ava@alpha.example,,"usr-g1,usr-g2",05
            usr-g1,active,,false,gus.smith,,Gus,Smith,,,,555-0100,,
            usr-g2,active,,false,gia.smith,,Gia,Smith,,,,,,
            usr-t1,active,,true,tom.teach,,Tom,Teach,,,tom@alpha.example,,,
        """,
        "enrollments.csv": """
            sourcedId,status,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate
            enr-1,active,cls-1,org-s1,usr-1,student,,2025-08-15
            enr-2,active,cls-1,org-s1,usr-t1,teacher,true,
        """,
        "demographics.csv": """
            sourcedId,status,birthDate,sex,asian,white,cityOfBirth
            usr-1,active,2015-03-02,female,true,false,Oslo
        """,
    }
    rows = {file: _csv(version, file, text) for file, text in rows.items()}
    users = {user["sourcedId"]: user for user in rows["users.csv"]}
    if version == spec.V1_1:
        users["usr-1"] |= {"role": "student", "orgSourcedIds": "org-s1,org-s2"}
        users["usr-g1"] |= {"role": "guardian", "orgSourcedIds": "org-s1"}
        users["usr-g2"] |= {"role": "parent", "orgSourcedIds": "org-s1"}
        users["usr-t1"] |= {"role": "teacher", "orgSourcedIds": "org-s1,org-s2"}
        return rows
    users["usr-1"] |= {"primaryOrgSourcedId": "org-s1", "preferredGivenName": "Avi"}
    users["usr-1"] |= {"pronouns": "she/her", "userMasterIdentifier": "M-1"}
    users["usr-t1"] |= {"preferredFamilyName": "Teacher", "preferredMiddleName": "Q"}
    # Most roles carry the user's status and date and the user-org-role id a REST server
    # leaves out; rl-77 and usr-t1's teacher role have their own.
    rows["roles.csv"] = _csv(
        version,
        "roles.csv",
        """
        sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId
        usr-1-org-s1-student,active,2025-08-01T06:00:00.000Z,usr-1,primary,student,,,org-s1,
        rl-77,active,2025-08-01T06:00:00.000Z,usr-1,secondary,student,2025-08-15,2026-06-15,org-s2,
        usr-g1-org-s1-guardian,active,,usr-g1,primary,guardian,,,org-s1,
        usr-g2-org-s1-parent,active,,usr-g2,primary,parent,,,org-s1,up-9
        usr-t1-org-s1-teacher,tobedeleted,2025-08-20T00:00:00Z,usr-t1,primary,teacher,,,org-s1,
        usr-t1-org-s2-siteAdministrator,active,,usr-t1,secondary,siteAdministrator,,,org-s2,
        """,
    )
    return rows


def _users(count, version=spec.V1_1):
    rows = _empty(version)
    rows["users.csv"] = [
        _row(
            version,
            "users.csv",
            sourcedId=f"usr-{i:02}",
            enabledUser="true",
            username=f"u{i}",
            givenName="A",
            familyName="B",
        )
        for i in range(1, count + 1)
    ]
    return rows


# --- what comes back


def test_fetch_1_1_returns_the_rows_the_server_was_built_from(oneroster_server):
    rows = _roster(spec.V1_1)
    server = oneroster_server(rows, version=spec.V1_1, client_secret=SECRET)

    fetched = rest.fetch(_source(server))

    assert fetched == rows
    assert fetched["users.csv"][0]["agentSourcedIds"] == "usr-g1,usr-g2"
    assert fetched["users.csv"][0]["orgSourcedIds"] == "org-s1,org-s2"
    assert fetched["classes.csv"][0]["termSourcedIds"] == "as-t1,as-t2"
    assert list(fetched["users.csv"][0]) == spec.COLUMNS[spec.V1_1]["users.csv"]


def test_fetch_1_2_returns_user_roles_as_roles_csv_rows(oneroster_server):
    rows = _roster(spec.V1_2)
    server = oneroster_server(rows, version=spec.V1_2)

    fetched = rest.fetch(_source(server))

    assert fetched == rows
    # The server sends enabledUser as a JSON boolean and no sourcedId for most roles.
    assert server.data["users"][1]["enabledUser"] is False
    assert "sourcedId" not in server.data["users"][0]["roles"][0]
    assert fetched["roles.csv"][0]["sourcedId"] == "usr-1-org-s1-student"
    assert fetched["roles.csv"][1]["sourcedId"] == "rl-77"
    assert fetched["users.csv"][0]["primaryOrgSourcedId"] == "org-s1"
    assert server.requests_to("users")[0].path == "/users"
    assert server.requests[1].target.startswith("/ims/oneroster/rostering/v1p2/orgs?")


def test_enabled_user_string_is_normalised_to_lowercase(oneroster_server):
    rows = _users(1)
    server = oneroster_server(rows)
    server.data["users"][0]["enabledUser"] = "TRUE"

    assert rest.fetch(_source(server))["users.csv"][0]["enabledUser"] == "true"


def test_missing_courses_and_demographics_endpoints_give_empty_lists(oneroster_server):
    rows = _roster(spec.V1_1)
    del rows["courses.csv"], rows["demographics.csv"]
    server = oneroster_server(rows)

    fetched = rest.fetch(_source(server))

    assert fetched["courses.csv"] == [] and fetched["demographics.csv"] == []
    assert fetched["users.csv"] == rows["users.csv"]


def test_missing_users_endpoint_is_an_error_naming_it(oneroster_server):
    rows = _roster(spec.V1_1)
    del rows["users.csv"]
    server = oneroster_server(rows)

    with pytest.raises(SourceError, match="nothing at /users") as error:
        rest.fetch(_source(server))
    assert error.value.file == "GET /users"


def test_progress_reports_rows_so_far_per_file(oneroster_server):
    server = oneroster_server(_users(5))
    seen = []

    rest.fetch(
        _source(server, page_size=2), progress=lambda file, count: seen.append((file, count))
    )

    assert [count for file, count in seen if file == "users.csv"] == [2, 4, 5]


# --- paging


def test_pages_follow_link_next_when_page_size_does_not_divide_count(oneroster_server):
    server = oneroster_server(_users(5))

    fetched = rest.fetch(_source(server, page_size=2))

    assert [u["sourcedId"] for u in fetched["users.csv"]] == [f"usr-{i:02}" for i in range(1, 6)]
    pages = server.requests_to("users")
    assert [r.query["offset"] for r in pages] == ["0", "2", "4"]
    assert all(r.query["limit"] == "2" for r in pages)


def test_pages_by_offset_when_server_sends_no_link(oneroster_server):
    server = oneroster_server(_users(5))
    server.send_link = False

    fetched = rest.fetch(_source(server, page_size=2))

    assert len(fetched["users.csv"]) == 5
    assert [r.query["offset"] for r in server.requests_to("users")] == ["0", "2", "4"]


def test_offset_paging_stops_at_an_empty_page_when_size_divides_count(oneroster_server):
    server = oneroster_server(_users(4))
    server.send_link = False
    server.send_total = False

    assert len(rest.fetch(_source(server, page_size=2))["users.csv"]) == 4
    assert [r.query["offset"] for r in server.requests_to("users")] == ["0", "2", "4"]


def test_offset_paging_continues_when_server_caps_limit_and_total_says_more(oneroster_server):
    server = oneroster_server(_users(7), max_limit=3)
    server.send_link = False

    fetched = rest.fetch(_source(server, page_size=5))

    assert len(fetched["users.csv"]) == 7
    assert [r.query["offset"] for r in server.requests_to("users")] == ["0", "3", "6"]


def test_server_ignoring_offset_raises_instead_of_looping(oneroster_server):
    server = oneroster_server(_users(5))
    server.send_link = False
    server.ignore_offset = True

    with pytest.raises(SourceError, match="would never end.*ignore the offset") as error:
        rest.fetch(_source(server, page_size=2))

    assert (error.value.file, error.value.line) == ("GET /users", 2)
    assert len(server.requests_to("users")) == 2


def test_link_to_the_same_page_forever_raises(oneroster_server):
    server = oneroster_server(_users(5))
    server.ignore_offset = True  # its Link next keeps pointing at offset 2, serving page 1

    with pytest.raises(SourceError, match="page 2 only repeats records already sent"):
        rest.fetch(_source(server, page_size=2))


# --- delta


def test_delta_sends_date_last_modified_filter_and_gets_only_changes(oneroster_server):
    rows = _users(3)
    for user, when in zip(
        rows["users.csv"], ("2025-07-01T00:00:00Z", "2025-08-15T12:00:00.000Z", ""), strict=True
    ):
        user["dateLastModified"] = when
    server = oneroster_server(rows)

    fetched = rest.fetch(_source(server), since=datetime(2025, 8, 1, 2, 30, 15, 999, tzinfo=UTC))

    assert [u["sourcedId"] for u in fetched["users.csv"]] == ["usr-02"]
    data_requests = [r for r in server.requests if r.method == "GET"]
    assert len(data_requests) == 7
    assert {r.query["filter"] for r in data_requests} == {"dateLastModified>'2025-08-01T02:30:15Z'"}
    assert "filter=dateLastModified%3E%272025-08-01T02%3A30%3A15Z%27" in data_requests[0].target


# --- OAuth 2


def test_oauth2_token_is_fetched_once_for_a_whole_fetch(oneroster_server):
    server = oneroster_server(_users(5))

    rest.fetch(_source(server, page_size=2))

    [token_request] = server.token_requests
    assert token_request.form == {
        "grant_type": "client_credentials",
        "scope": "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
    }
    bearers = {r.headers["Authorization"] for r in server.requests if r.method == "GET"}
    assert len(bearers) == 1 and bearers.pop().startswith("Bearer ")


def test_oauth2_token_is_refreshed_once_on_401_and_the_request_retried(oneroster_server):
    server = oneroster_server(_users(5))
    server.fail("users", nth=2, status=401)

    fetched = rest.fetch(_source(server, page_size=2))

    assert len(fetched["users.csv"]) == 5
    assert len(server.token_requests) == 2
    assert [r.status for r in server.requests_to("users")] == [200, 401, 200, 200]


def test_second_401_after_a_refresh_is_a_credentials_error(oneroster_server):
    server = oneroster_server(_users(5))
    server.fail("users", nth=2, status=401, times=2)

    with pytest.raises(SourceError, match="refused the credentials") as error:
        rest.fetch(_source(server, page_size=2))

    assert (error.value.file, error.value.line) == ("GET /users", 2)
    assert len(server.token_requests) == 2


def test_wrong_secret_mentions_credentials_and_never_the_secret(oneroster_server, caplog):
    caplog.set_level(logging.DEBUG)
    server = oneroster_server(_users(1), client_secret="the-real-one")

    with pytest.raises(SourceError) as error:
        rest.fetch(_source(server, client_secret=SECRET))

    assert "client id and secret" in str(error.value)
    assert "invalid_client" in str(error.value)
    assert error.value.file == "POST /oauth/token"
    assert SECRET not in str(error.value.as_dict()) and SECRET not in caplog.text


def test_messages_never_carry_the_bearer_token(oneroster_server):
    server = oneroster_server(_users(5), client_secret=SECRET)
    server.fail("users", nth=2, status=500)

    with pytest.raises(SourceError) as error:
        rest.fetch(_source(server, page_size=2))

    [token] = server.tokens
    assert token not in str(error.value) and SECRET not in str(error.value)


# --- failures


def test_500_mid_paging_names_endpoint_and_page(oneroster_server):
    server = oneroster_server(_users(5))
    server.fail("users", nth=2, status=500)

    with pytest.raises(SourceError) as error:
        rest.fetch(_source(server, page_size=2))

    assert (error.value.file, error.value.line) == ("GET /users", 2)
    assert "HTTP 500" in error.value.message and "/users page 2" in error.value.message


def test_timeout_names_endpoint_and_page(oneroster_server):
    server = oneroster_server(_users(5))
    server.fail("users", nth=3, hang=5)
    started = time.monotonic()

    with pytest.raises(SourceError) as error:
        rest.fetch(_source(server, page_size=2, timeout=0.5))

    assert time.monotonic() - started < 3
    assert "did not answer within 0.5 s while fetching /users page 3" in error.value.message
    assert (error.value.file, error.value.line) == ("GET /users", 3)


def test_429_waits_for_retry_after_then_carries_on(oneroster_server):
    server = oneroster_server(_users(3))
    server.fail("users", nth=1, status=429, headers={"Retry-After": "0"})

    assert len(rest.fetch(_source(server))["users.csv"]) == 3
    assert [r.status for r in server.requests_to("users")] == [429, 200]


def test_503_past_max_retries_says_the_sis_is_busy(oneroster_server):
    server = oneroster_server(_users(3))
    server.fail("users", status=503, headers={"Retry-After": "0"}, times=3)

    with pytest.raises(SourceError, match="busy"):
        rest.fetch(_source(server, max_retries=2))
    assert len(server.requests_to("users")) == 3


def test_body_that_is_not_json_names_endpoint_and_page(oneroster_server):
    server = oneroster_server(_users(3))
    server.fail("users", body=b"<html>Maintenance</html>")

    with pytest.raises(SourceError, match="not JSON") as error:
        rest.fetch(_source(server))
    assert (error.value.file, error.value.line) == ("GET /users", 1)


def test_body_without_the_collection_key_is_an_error(oneroster_server):
    server = oneroster_server(_users(3))
    server.fail("users", body=json.dumps({"user": []}).encode())

    with pytest.raises(SourceError, match='without a "users" list'):
        rest.fetch(_source(server))


def test_connection_refused_is_a_source_error():
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = RestSource(
        f"http://127.0.0.1:{port}/ims/oneroster/v1p1",
        spec.V1_1,
        client_id="id",
        client_secret=SECRET,
        token_url=f"http://127.0.0.1:{port}/oauth/token",
        max_retries=0,
    )

    with pytest.raises(SourceError, match="Could not reach the SIS") as error:
        rest.fetch(source)
    assert error.value.file == "POST /oauth/token"


@pytest.mark.parametrize(
    "base_url, token_url",
    [
        ("http://sis.example/ims/oneroster/v1p1", "https://sis.example/oauth/token"),
        ("https://sis.example/ims/oneroster/v1p1", "http://sis.example/oauth/token"),
        ("ftp://sis.example/ims/oneroster/v1p1", "https://sis.example/oauth/token"),
    ],
)
def test_non_https_remote_url_is_refused(base_url, token_url):
    source = RestSource(
        base_url, spec.V1_1, client_id="id", client_secret=SECRET, token_url=token_url
    )

    with pytest.raises(SourceError, match="must start with https://"):
        rest.fetch(source)


# --- OAuth 1.0a


def test_oauth1_signed_requests_are_accepted(oneroster_server):
    rows = _roster(spec.V1_1)
    server = oneroster_server(rows, auth="oauth1", client_secret=SECRET)

    assert rest.fetch(_source(server, page_size=2)) == rows

    assert not server.token_requests
    for request in server.requests:
        assert request.status == 200
        assert 'oauth_signature_method="HMAC-SHA256"' in request.headers["Authorization"]


def test_oauth1_tampered_or_replayed_request_is_refused(oneroster_server):
    server = oneroster_server(_users(3), auth="oauth1", client_secret=SECRET)
    signed_for = f"{server.base_url}/users?limit=1&offset=0"
    header = rest.oauth1_authorization("GET", signed_for, "id", SECRET)

    def status(url, authorization):
        request = urllib.request.Request(url, headers={"Authorization": authorization})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert status(f"{server.base_url}/users?limit=100&offset=0", header) == 401
    fresh = rest.oauth1_authorization("GET", signed_for, "id", SECRET)
    assert status(signed_for, fresh) == 200
    assert status(signed_for, fresh) == 401  # same nonce again


def test_oauth1_wrong_secret_is_a_credentials_error(oneroster_server):
    server = oneroster_server(_users(3), auth="oauth1", client_secret="the-real-one")

    with pytest.raises(SourceError, match="refused the credentials") as error:
        rest.fetch(_source(server, client_secret=SECRET))
    assert error.value.file == "GET /orgs" and SECRET not in str(error.value)


def test_oauth1_base_string_matches_rfc_5849_example():
    # RFC 5849 §3.4.1.1: query, body and oauth_ parameters, sorted and encoded twice.
    params = [
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("c2", ""),
        ("a3", "2 q"),
    ]
    url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"

    assert rest.oauth1_base_string("POST", url, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26"
        "b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26"
        "oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26"
        "oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_oauth1_is_refused_for_1_2_servers():
    source = RestSource(
        "https://sis.example/ims/oneroster/rostering/v1p2",
        spec.V1_2,
        auth="oauth1",
        client_id="id",
        client_secret=SECRET,
    )

    with pytest.raises(SourceError, match="OAuth 2.0 only"):
        rest.fetch(source)


# --- test_connection


def test_connection_summary_counts_orgs_from_total(oneroster_server):
    server = oneroster_server(_roster(spec.V1_2), version=spec.V1_2)

    assert rest.test_connection(_source(server)) == "Connected: 3 orgs"
    [orgs] = server.requests_to("orgs")
    assert orgs.query == {"limit": "1", "offset": "0"}
    assert len(server.token_requests) == 1


def test_connection_summary_counts_what_it_saw_without_total(oneroster_server):
    server = oneroster_server(_roster(spec.V1_1))
    server.send_total = False

    assert rest.test_connection(_source(server)) == "Connected: 1 org"


def test_connection_with_wrong_secret_raises(oneroster_server):
    server = oneroster_server(_roster(spec.V1_1), client_secret="the-real-one")

    with pytest.raises(SourceError, match="client id and secret"):
        rest.test_connection(_source(server, client_secret=SECRET))
