"""A real OneRoster 1.1/1.2 REST server for tests: turns CSV-shaped rows back into OneRoster
JSON and serves them over HTTP on 127.0.0.1 with OAuth 2 (or OAuth 1.0a), limit/offset
paging, Link and X-Total-Count headers, the dateLastModified filter and switchable faults.

    with OneRosterServer(rows, version="1.2") as server:
        server.fail("users", nth=2, status=500)
        rest.fetch(RestSource(server.base_url, "1.2", client_id="id", client_secret="secret",
                              token_url=server.token_url))

The JSON is written out field by field here, not derived from the client's tables, so a
round trip through the client checks its flattening against an independent reading of the spec.
"""

import base64
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from rostering.oneroster import rest

PREFIXES = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
COLLECTIONS = {
    "orgs": "orgs.csv",
    "academicSessions": "academicSessions.csv",
    "courses": "courses.csv",
    "classes": "classes.csv",
    "users": "users.csv",
    "enrollments": "enrollments.csv",
    "demographics": "demographics.csv",
}
DEMOGRAPHIC_FLAGS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)
CLOCK_SKEW = 600  # seconds of OAuth 1 timestamp drift accepted, as real servers do


@dataclass
class SeenRequest:
    method: str
    path: str  # without the version prefix: "/users", "/oauth/token"
    target: str  # the raw request target, query string still encoded
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    status: int = 0

    @property
    def collection(self) -> str:
        return self.path.strip("/")


@dataclass
class Fault:
    collection: str
    nth: int
    times: int
    status: int | None = None
    hang: float | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class OneRosterServer:
    def __init__(
        self,
        rows: dict[str, list[dict[str, str]]],
        *,
        version: str = "1.1",
        client_id: str = "id",
        client_secret: str = "secret",
        auth: str = "oauth2",
        max_limit: int | None = None,
    ):
        self.version = version
        self.prefix = PREFIXES[version]
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth = auth
        self.max_limit = max_limit  # a server cap on `limit`, as real servers have
        self.ignore_offset = False
        self.send_link = True
        self.send_total = True
        self.requests: list[SeenRequest] = []
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self._nonces: set[str] = set()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.data = {
            name: [_to_json(file, row, rows, version, self.prefix) for row in rows[file]]
            for name, file in COLLECTIONS.items()
            if file in rows
        }

    # --- lifecycle

    def __enter__(self) -> "OneRosterServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"state": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        # A short poll so stop() returns at once instead of after the default half second.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are hanging on purpose
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + self.prefix

    @property
    def token_url(self) -> str:
        return self.origin + "/oauth/token"

    # --- test controls and observations

    def fail(
        self,
        collection: str,
        *,
        nth: int = 1,
        status: int | None = None,
        hang: float | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """From the nth request of `collection` on, `times` requests answer `status` (a 401
        also expires every token), hang for `hang` seconds, or answer 200 with `body`."""
        self.faults.append(Fault(collection, nth, times, status, hang, body, headers or {}))

    def requests_to(self, collection: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.collection == collection]

    @property
    def token_requests(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == "/oauth/token"]

    def oauth1_is_valid(self, method: str, url: str, authorization: str) -> bool:
        if not authorization.startswith("OAuth "):
            return False
        oauth = {unquote(k): unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', authorization)}
        signature = oauth.pop("oauth_signature", "")
        oauth.pop("realm", None)
        timestamp = oauth.get("oauth_timestamp", "")
        with self._lock:
            fresh = oauth.get("oauth_nonce", "") not in self._nonces
            self._nonces.add(oauth.get("oauth_nonce", ""))
        expected = rest.oauth1_signature(method, url, list(oauth.items()), self.client_secret)
        return (
            fresh
            and oauth.get("oauth_consumer_key") == self.client_id
            and oauth.get("oauth_signature_method") == "HMAC-SHA256"
            and timestamp.isdigit()
            and abs(time.time() - int(timestamp)) <= CLOCK_SKEW
            and hmac.compare_digest(expected, signature)
        )

    # --- serving

    def take_fault(self, collection: str) -> Fault | None:
        with self._lock:
            count = self._counts[collection] = self._counts.get(collection, 0) + 1
            for fault in self.faults:
                if fault.collection == collection and count >= fault.nth and fault.times > 0:
                    fault.times -= 1
                    if fault.status == 401:
                        self.tokens.clear()
                    return fault
        return None

    def page(self, collection: str, query: dict[str, str], host: str):
        """(status, JSON body, headers) for one page of a collection."""
        records = self.data[collection]
        if "filter" in query:
            match = re.fullmatch(r"\s*dateLastModified\s*>\s*'([^']+)'\s*", query["filter"])
            if not match:
                return 400, _status_info("unsupported filter"), {}
            since = datetime.fromisoformat(match.group(1))
            records = [
                r
                for r in records
                if r["dateLastModified"] and datetime.fromisoformat(r["dateLastModified"]) > since
            ]
        limit = int(query.get("limit", 100))
        if self.max_limit:
            limit = min(limit, self.max_limit)
        offset = 0 if self.ignore_offset else int(query.get("offset", 0))
        total = len(records)
        headers = {"X-Total-Count": str(total)} if self.send_total else {}
        if self.send_link and offset + limit < total:

            def link(rel: str, at: int) -> str:
                params = urlencode(query | {"offset": at}, quote_via=quote)
                return f'<http://{host}{self.prefix}/{collection}?{params}>; rel="{rel}"'

            last = (total - 1) // limit * limit
            headers["Link"] = ", ".join(
                (link("first", 0), link("next", offset + limit), link("last", last))
            )
        return 200, {collection: records[offset : offset + limit]}, headers


class _Handler(BaseHTTPRequestHandler):
    state: OneRosterServer

    def log_message(self, format, *args):  # keep test output clean
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nobody left to answer

    def _seen(self, form: dict[str, str] | None = None) -> SeenRequest:
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith(self.state.prefix + "/"):
            path = path[len(self.state.prefix) :]
        seen = SeenRequest(
            method=self.command,
            path=path,
            target=self.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            form=form or {},
        )
        with self.state._lock:
            self.state.requests.append(seen)
        return seen

    def _reply(self, seen: SeenRequest, status: int, body, headers=None) -> None:
        seen.status = status
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        seen = self._seen(form)
        if seen.path != "/oauth/token":
            return self._reply(seen, 404, _status_info("not found"))
        expected = f"{self.state.client_id}:{self.state.client_secret}".encode()
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given, "Basic " + base64.b64encode(expected).decode()):
            return self._reply(seen, 401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return self._reply(seen, 400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(16)
        with self.state._lock:
            self.state.tokens.add(token)
        answer = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        return self._reply(seen, 200, answer | {"scope": form.get("scope", "")})

    def do_GET(self):
        seen = self._seen()
        state = self.state
        in_api = urlsplit(self.path).path.startswith(state.prefix + "/")
        if not in_api or seen.collection not in COLLECTIONS:
            return self._reply(seen, 404, _status_info("not found"))
        fault = state.take_fault(seen.collection)
        if fault and fault.hang:
            state._stopping.wait(fault.hang)
            return None  # the client has given up by now; answer nothing
        if not self._authorized():
            return self._reply(seen, 401, _status_info("unauthorized"))
        if fault and (fault.status or fault.body is not None):
            body = fault.body if fault.body is not None else _status_info("fault")
            return self._reply(seen, fault.status or 200, body, fault.headers)
        if seen.collection not in state.data:
            return self._reply(seen, 404, _status_info("not found"))
        host = self.headers.get("Host", "127.0.0.1")
        status, body, headers = state.page(seen.collection, seen.query, host)
        return self._reply(seen, status, body, headers)

    def _authorized(self) -> bool:
        authorization = self.headers.get("Authorization", "")
        if self.state.auth == "oauth1":
            url = f"http://{self.headers.get('Host', '')}{self.path}"
            return self.state.oauth1_is_valid(self.command, url, authorization)
        token = authorization.removeprefix("Bearer ")
        with self.state._lock:
            return authorization.startswith("Bearer ") and token in self.state.tokens


def _status_info(description: str) -> dict:
    return {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description}


# --- CSV rows -> OneRoster JSON (the reverse of the client's flattening)


def _list(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def _flag(value: str):
    return {"true": True, "false": False}.get(value, value or None)


def _ref(sourced_id: str, kind: str, prefix: str, collection: str) -> dict | None:
    if not sourced_id:
        return None
    return {"href": f"{prefix}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def _refs(sourced_ids: str, kind: str, prefix: str, collection: str) -> list[dict]:
    return [_ref(i, kind, prefix, collection) for i in _list(sourced_ids)]


def _to_json(file: str, row: dict[str, str], rows: dict, version: str, prefix: str) -> dict:
    def org(i):
        return _ref(i, "org", prefix, "orgs")

    def session(i):
        return _ref(i, "academicSession", prefix, "academicSessions")

    record = {
        "sourcedId": row["sourcedId"],
        "status": row["status"],
        "dateLastModified": row["dateLastModified"],
        "metadata": {},
    }
    if file == "orgs.csv":
        record |= {k: row[k] for k in ("name", "type", "identifier")}
        record |= {"parent": org(row["parentSourcedId"]), "children": []}
    elif file == "academicSessions.csv":
        record |= {k: row[k] for k in ("title", "type", "startDate", "endDate", "schoolYear")}
        record["parent"] = session(row["parentSourcedId"])
    elif file == "courses.csv":
        record |= {"title": row["title"], "courseCode": row["courseCode"]}
        record |= {k: _list(row[k]) for k in ("grades", "subjects", "subjectCodes")}
        record |= {
            "schoolYear": session(row["schoolYearSourcedId"]),
            "org": org(row["orgSourcedId"]),
        }
    elif file == "classes.csv":
        record |= {k: row[k] for k in ("title", "classCode", "classType", "location")}
        record |= {k: _list(row[k]) for k in ("grades", "subjects", "subjectCodes", "periods")}
        record["course"] = _ref(row["courseSourcedId"], "course", prefix, "courses")
        record["school"] = org(row["schoolSourcedId"])
        record["terms"] = _refs(
            row["termSourcedIds"], "academicSession", prefix, "academicSessions"
        )
    elif file == "users.csv":
        record |= _user(row, rows, version, prefix)
    elif file == "enrollments.csv":
        record |= {k: row[k] for k in ("role", "beginDate", "endDate")}
        record["primary"] = _flag(row["primary"])
        record["user"] = _ref(row["userSourcedId"], "user", prefix, "users")
        record["class"] = _ref(row["classSourcedId"], "class", prefix, "classes")
        record["school"] = org(row["schoolSourcedId"])
    elif file == "demographics.csv":
        record |= {k: (_flag(v) if k in DEMOGRAPHIC_FLAGS else v) for k, v in row.items()}
    return record


def _user(row: dict[str, str], rows: dict, version: str, prefix: str) -> dict:
    names = ("username", "givenName", "familyName", "middleName", "identifier", "email")
    user = {k: row[k] for k in (*names, "sms", "phone", "password")}
    user["userIds"] = [
        {"type": kind, "identifier": identifier}
        for kind, identifier in re.findall(r"\{([^:}]*):([^}]*)\}", row["userIds"])
    ]
    user["agents"] = _refs(row["agentSourcedIds"], "user", prefix, "users")
    user["grades"] = _list(row["grades"])
    if version == "1.1":
        # 1.1 servers often send enabledUser as a string; 1.2 ones as a JSON boolean.
        user |= {"enabledUser": row["enabledUser"], "role": row["role"]}
        user["orgs"] = _refs(row["orgSourcedIds"], "org", prefix, "orgs")
        return user
    user["enabledUser"] = _flag(row["enabledUser"])
    user["userMasterIdentifier"] = row["userMasterIdentifier"]
    user["preferredFirstName"] = row["preferredGivenName"]
    user["preferredMiddleName"] = row["preferredMiddleName"]
    user["preferredLastName"] = row["preferredFamilyName"]
    user["pronouns"] = row["pronouns"]
    user["primaryOrg"] = _ref(row["primaryOrgSourcedId"], "org", prefix, "orgs")
    user["roles"] = []
    for role in rows.get("roles.csv", []):
        if role["userSourcedId"] != row["sourcedId"]:
            continue
        entry = {
            "roleType": role["roleType"],
            "role": role["role"],
            "org": _ref(role["orgSourcedId"], "org", prefix, "orgs"),
            "userProfile": role["userProfileSourcedId"] or None,
            "beginDate": role["beginDate"] or None,
            "endDate": role["endDate"] or None,
        }
        # REST roles have no sourcedId of their own; send one only when it is not the
        # user-org-role id the client makes up, and status/dates only when not the user's.
        if role["sourcedId"] != f"{row['sourcedId']}-{role['orgSourcedId']}-{role['role']}":
            entry["sourcedId"] = role["sourcedId"]
        for name in ("status", "dateLastModified"):
            if role[name] != row[name]:
                entry[name] = role[name]
        user["roles"].append(entry)
    return user
