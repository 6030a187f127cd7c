"""Fetching the rostering collections from a OneRoster 1.1 or 1.2 REST server (OAuth 2
client credentials or OAuth 1.0a, paging, delta filter, retries) and flattening the JSON
into the same CSV-shaped rows the bundle reader produces (shared/ONEROSTER.md, §3).
"""

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import logging
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from . import spec
from .errors import SourceError

logger = logging.getLogger(__name__)

SCOPES = {
    spec.V1_1: "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
    spec.V1_2: "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
}
# Collections in reference order; each is also its JSON envelope key and "<name>.csv".
ENDPOINTS = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
)
# Statuses that mean "this server does not offer the collection", not "the sync failed".
# roster-core scopes exclude demographics, so a 403 there is a scope answer, not bad creds.
OPTIONAL_STATUSES = {"courses": {404}, "demographics": {403, 404}}

# A CSV reference column is named after the JSON reference it flattens: orgSourcedIds <-
# orgs[].sourcedId, schoolYearSourcedId <- schoolYear.sourcedId, parentSourcedId <- parent.
REFERENCE_COLUMN = re.compile(r"(\w+)SourcedId(s?)")
# The 1.2 REST binding names preferred names differently from the CSV binding.
JSON_ALIASES = {
    "preferredGivenName": "preferredFirstName",
    "preferredFamilyName": "preferredLastName",
}

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_PAGES = 100_000  # 10^7 records at the default page size: far past any district.
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is a sync to try later, not to wait on.
USER_AGENT = "Rollbook-OneRoster/1.0"
ABSENT = object()  # body of a collection the server does not offer


@dataclass(frozen=True)
class RestSource:
    base_url: str
    version: str
    auth: str = "oauth2"  # "oauth2" (client credentials) or "oauth1" (1.0a, 1.1 servers)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)  # never in logs or tracebacks
    token_url: str = ""
    scope: str = ""  # default: the version's roster-core.readonly scope
    page_size: int = 1000
    timeout: float = 30.0
    max_retries: int = 3


def fetch(
    source: RestSource,
    *,
    since: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Every rostering collection as CSV rows; with `since`, only records changed after it."""
    client = _Client(source)
    filter_ = None
    if since is not None:
        # A naive datetime is taken as UTC; seconds are truncated, which only widens a delta.
        when = since if since.tzinfo else since.replace(tzinfo=UTC)
        filter_ = f"dateLastModified>'{when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"
    columns = spec.COLUMNS[source.version]
    rows = {file: [] for file in spec.ROSTER_FILES if file in columns}
    for endpoint in ENDPOINTS:
        file = f"{endpoint}.csv"
        for record in client.collection(endpoint, filter_, progress=progress, file=file):
            row = _flatten(record, columns[file])
            rows[file].append(row)
            if file == "users.csv" and source.version == spec.V1_2:
                rows["roles.csv"].extend(_role_rows(record, row))
    return rows


def test_connection(source: RestSource) -> str:
    """Gets a token and one org; a short summary for the admin, or SourceError."""
    client = _Client(source)
    url = client.url("orgs", {"limit": 1, "offset": 0})
    body, headers = client.get(url, "orgs", page=1)
    orgs = _records(body, "orgs", page=1)
    total = headers.get("X-Total-Count", "").strip()
    count = int(total) if total.isdigit() else len(orgs)
    return f"Connected: {count} org{'' if count == 1 else 's'}"


# --- OAuth 1.0a (RFC 5849), kept public so a test server can verify what the client signs.


def _percent(value: str) -> str:
    return quote(value, safe="~")


def oauth1_base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1: method, base URI (no query) and every query and oauth_ parameter."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(params)
    normalized = "&".join(
        f"{name}={value}" for name, value in sorted((_percent(n), _percent(v)) for n, v in pairs)
    )
    base_uri = f"{scheme}://{netloc}{parts.path or '/'}"
    return "&".join((method.upper(), _percent(base_uri), _percent(normalized)))


def oauth1_signature(method: str, url: str, params: list[tuple[str, str]], secret: str) -> str:
    # OneRoster 1.1 signs with HMAC-SHA256; there is no token, so its secret is empty.
    key = f"{_percent(secret)}&".encode()
    digest = hmac.new(key, oauth1_base_string(method, url, params).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def oauth1_authorization(method: str, url: str, client_id: str, secret: str) -> str:
    """The Authorization header for one request; a fresh nonce every call (servers refuse replays)."""
    oauth = [
        ("oauth_consumer_key", client_id),
        ("oauth_nonce", secrets.token_hex(16)),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_timestamp", str(int(time.time()))),
        ("oauth_version", "1.0"),
    ]
    oauth.append(("oauth_signature", oauth1_signature(method, url, oauth, secret)))
    return "OAuth " + ", ".join(f'{name}="{_percent(value)}"' for name, value in oauth)


# --- HTTP


class NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the Authorization header to wherever a redirect points.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class _Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class _Client:
    def __init__(self, source: RestSource):
        _check_source(source)
        self.source = source
        self.base = source.base_url.rstrip("/")
        self.origin = urlsplit(self.base)[:2]
        self.opener = urllib.request.build_opener(NoRedirects)
        self.token = ""

    def url(self, endpoint: str, params: dict) -> str:
        return f"{self.base}/{endpoint}?{urlencode(params, quote_via=quote)}"

    def collection(
        self, endpoint: str, filter_: str | None, *, progress: Callable | None, file: str
    ) -> list[dict]:
        """Every record of a collection, page by page, keyed once per sourcedId."""
        limit = self.source.page_size
        params = {"limit": limit, "offset": 0} | ({"filter": filter_} if filter_ else {})
        url = self.url(endpoint, params)
        records: dict[object, dict] = {}
        previous: list[dict] = []
        for page in itertools.count(1):
            body, headers = self.get(url, endpoint, page=page)
            if body is ABSENT:
                return []
            batch = _records(body, endpoint, page=page)
            if not batch:
                break
            ids = [str(r.get("sourcedId") or "") for r in batch]
            if page > MAX_PAGES or batch == previous or all(i and i in records for i in ids):
                raise SourceError(
                    f"Paging /{endpoint} would never end: page {page} only repeats records already sent (or there are over {MAX_PAGES} pages). The SIS may ignore the offset parameter; ask its vendor, or try a larger page size.",
                    file=f"GET /{endpoint}",
                    line=page,
                )
            for record, sourced_id in zip(batch, ids, strict=True):
                # Records shifting between pages can show up twice: the later copy wins.
                records[sourced_id or object()] = record
            if progress:
                progress(file, len(records))
            previous = batch
            params["offset"] += len(batch)
            next_url = _link_next(headers)
            if next_url:
                url = self.same_origin(urljoin(url, next_url), endpoint, page)
                continue
            total = headers.get("X-Total-Count", "").strip()
            # A short page is the end, unless the server capped our limit and says there is more.
            if len(batch) < limit and not (total.isdigit() and params["offset"] < int(total)):
                break
            url = self.url(endpoint, params)
        logger.info("oneroster.rest.fetched", extra={"endpoint": endpoint, "pages": page})
        return list(records.values())

    def same_origin(self, url: str, endpoint: str, page: int) -> str:
        # A next link elsewhere would carry our credentials to another host.
        if urlsplit(url)[:2] != self.origin:
            raise SourceError(
                f"The SIS pointed the next page of /{endpoint} to another server; Rollbook only follows links on the base URL's host.",
                file=f"GET /{endpoint}",
                line=page,
            )
        return url

    def get(self, url: str, endpoint: str, *, page: int) -> tuple[object, http.client.HTTPMessage]:
        """The decoded JSON and headers of one data request; ABSENT as the body for an
        optional collection the server does not offer."""
        where, label = f"GET /{endpoint}", f"/{endpoint} page {page}"

        def request() -> urllib.request.Request:
            # Signed per attempt: a retried OAuth 1 request needs a fresh nonce.
            if self.source.auth == "oauth1":
                source = self.source
                auth = oauth1_authorization("GET", url, source.client_id, source.client_secret)
            else:
                auth = f"Bearer {self.bearer()}"
            return _request(url, {"Authorization": auth})

        response = self.send(request, where=where, during=f"fetching {label}", page=page)
        if response.status == 401 and self.source.auth == "oauth2":
            # An expired or revoked token: get a new one and retry this request once.
            self.token = ""
            response = self.send(request, where=where, during=f"fetching {label}", page=page)
        if response.status in OPTIONAL_STATUSES.get(endpoint, ()):
            logger.info("oneroster.rest.absent", extra={"endpoint": endpoint})
            return ABSENT, response.headers
        if response.status != 200:
            raise _status_error(response.status, where, f"/{endpoint}", page)
        try:
            return json.loads(response.body), response.headers
        except ValueError:
            raise SourceError(
                f"The SIS answered {label} with something that is not JSON; check that the base URL points at the OneRoster API.",
                file=where,
                line=page,
            ) from None

    def bearer(self) -> str:
        if not self.token:
            self.token = self.fetch_token()
        return self.token

    def fetch_token(self) -> str:
        source = self.source
        where = f"POST {urlsplit(source.token_url).path or '/'}"
        basic = base64.b64encode(f"{source.client_id}:{source.client_secret}".encode()).decode()
        form = urlencode(
            {"grant_type": "client_credentials", "scope": source.scope or SCOPES[source.version]}
        ).encode()
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = self.send(
            lambda: _request(source.token_url, headers, data=form),
            where=where,
            during="fetching an access token",
            page=None,
        )
        try:
            answer = json.loads(response.body)
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        if response.status in (400, 401, 403):
            # OAuth error codes ("invalid_client", "invalid_scope") are safe and say what to fix.
            code = str(answer.get("error", ""))
            code = f", {code}" if re.fullmatch(r"[a-z_]{1,40}", code) else ""
            raise SourceError(
                f"The SIS refused the credentials at the token endpoint (HTTP {response.status}{code}): check the client id and secret, and that this client may read rosters.",
                file=where,
            )
        if response.status != 200:
            raise _status_error(response.status, where, "the token URL", None)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise SourceError(
                "The token endpoint answered without an access_token: check the token URL.",
                file=where,
            )
        return token

    def send(self, build: Callable, *, where: str, during: str, page: int | None) -> _Response:
        """One request, retried on 429/503 and dropped connections; any HTTP status is returned."""
        retries = 0
        while True:
            try:
                with self.opener.open(build(), timeout=self.source.timeout) as reply:
                    return _Response(reply.status, reply.headers, reply.read())
            except urllib.error.HTTPError as error:
                with error:
                    response = _Response(error.code, error.headers, error.read())
                if response.status not in (429, 503) or retries >= self.source.max_retries:
                    return response
                delay = _retry_after(response.headers, retries)
            except (OSError, http.client.HTTPException) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, TimeoutError):
                    raise _timeout(self.source, where, during, page) from None
                if retries >= self.source.max_retries:
                    raise SourceError(
                        f"Could not reach the SIS while {during} ({_reason(reason)}): check the URL and that the server is up, or try again later.",
                        file=where,
                        line=page,
                    ) from None
                delay = min(0.5 * 2**retries, 10.0)
            retries += 1
            time.sleep(delay)


def _request(url: str, headers: dict[str, str], data: bytes | None = None):
    # Schemes were checked (_check_source, same_origin): https, or http to this machine only.
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
    return urllib.request.Request(url, data=data, headers=headers)  # noqa: S310


def _check_source(source: RestSource) -> None:
    if source.version not in spec.VERSIONS:
        raise SourceError(f"Unknown OneRoster version {source.version!r}; use 1.1 or 1.2.")
    if source.auth not in ("oauth2", "oauth1"):
        raise SourceError(f"Unknown authentication {source.auth!r}; use oauth2 or oauth1.")
    if source.auth == "oauth1" and source.version != spec.V1_1:
        raise SourceError("OneRoster 1.2 servers accept OAuth 2.0 only; choose OAuth 2.")
    if not source.client_id or not source.client_secret:
        raise SourceError("Enter the client id and the client secret the SIS issued.")
    if source.page_size < 1:
        raise SourceError("The page size must be at least 1.")
    _check_url(source.base_url, "base URL")
    if source.auth == "oauth2":
        if not source.token_url:
            raise SourceError("Enter the token URL the SIS gave for OAuth 2.")
        _check_url(source.token_url, "token URL")


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return  # plain http only to this machine (tests, a local proxy)
    raise SourceError(
        f"The {what} must start with https:// (got {parts.scheme or 'no scheme'}://{parts.hostname or ''}): roster data and credentials never travel unencrypted."
    )


def _status_error(status: int, where: str, label: str, page: int | None) -> SourceError:
    what = f"{label} page {page}" if page else label
    if status in (401, 403):
        message = f"The SIS refused the credentials for {what} (HTTP {status}): check the client id and secret, and that this client may read rosters."
    elif status == 404:
        message = f"The SIS has nothing at {label} (HTTP 404): check the URL (a base URL usually ends in /ims/oneroster/v1p1 or /ims/oneroster/rostering/v1p2)."
    elif status in (429, 503):
        message = f"The SIS is busy (HTTP {status}) and kept refusing {what}; try again later."
    elif 300 <= status < 400:
        message = f"The SIS redirected {what} elsewhere (HTTP {status}); enter the final address as the URL."
    elif status >= 500:
        message = f"The SIS failed with HTTP {status} while serving {what}; try again later, and tell the SIS vendor if it keeps happening."
    else:
        message = f"The SIS answered HTTP {status} for {what}."
    return SourceError(message, file=where, line=page)


def _timeout(source: RestSource, where: str, during: str, page: int | None) -> SourceError:
    return SourceError(
        f"The SIS did not answer within {source.timeout:g} s while {during}; try again later, or raise the timeout.",
        file=where,
        line=page,
    )


def _reason(reason: object) -> str:
    # Error text from the network layer; it never holds request headers or bodies.
    return str(getattr(reason, "strerror", None) or reason or type(reason).__name__)


def _retry_after(headers: http.client.HTTPMessage, retries: int) -> float:
    value = (headers.get("Retry-After") or "").strip()
    seconds = float(value) if value.replace(".", "", 1).isdigit() else 2.0**retries
    return min(seconds, MAX_RETRY_AFTER)


def _link_next(headers: http.client.HTTPMessage) -> str | None:
    for value in headers.get_all("Link") or ():
        for target, params in re.findall(r"<([^>]*)>([^<]*)", value):
            rel = re.search(r'rel\s*=\s*"?([^";,]*)', params)
            if rel and "next" in rel.group(1).split():
                return target
    return None


def _records(body: object, key: str, *, page: int) -> list[dict]:
    records = body.get(key) if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceError(
            f'The SIS answered /{key} page {page} without a "{key}" list of records; it may not be a OneRoster {key} collection.',
            file=f"GET /{key}",
            line=page,
        )
    return records


# --- JSON -> CSV rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, dict):
        return _text(value.get("sourcedId"))
    return str(value)


def _flatten(record: dict, columns: list[str]) -> dict[str, str]:
    row = {}
    for column in columns:
        if reference := REFERENCE_COLUMN.fullmatch(column):
            value = record.get(reference[1] + reference[2])
        elif column not in record and column in JSON_ALIASES:
            value = record.get(JSON_ALIASES[column])
        else:
            value = record.get(column)
        row[column] = _text(value)
    ids = record.get("userIds")
    if "userIds" in row and isinstance(ids, list):
        row["userIds"] = ",".join(
            f"{{{_text(i.get('type'))}:{_text(i.get('identifier'))}}}"
            for i in ids
            if isinstance(i, dict)
        )
    if "enabledUser" in row and row["enabledUser"].lower() in spec.BOOLEANS:
        row["enabledUser"] = row["enabledUser"].lower()
    return row


def _role_rows(user: dict, user_row: dict[str, str]) -> list[dict[str, str]]:
    """1.2 users carry their memberships as `roles`; the CSV binding has them in roles.csv."""
    roles = user.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, dict) for r in roles):
        raise SourceError(
            "The user's roles are not a list of role objects.",
            file="GET /users",
            sourced_id=user_row["sourcedId"],
        )
    rows = []
    for role in roles:
        org, name, user_id = _text(role.get("org")), _text(role.get("role")), user_row["sourcedId"]
        rows.append(
            {
                "sourcedId": _text(role.get("sourcedId")) or f"{user_id}-{org}-{name}",
                # A role has no life of its own in REST: it lives and changes with its user.
                "status": _text(role.get("status")) or user_row["status"],
                "dateLastModified": _text(role.get("dateLastModified"))
                or user_row["dateLastModified"],
                "userSourcedId": user_id,
                "roleType": _text(role.get("roleType")),
                "role": name,
                "beginDate": _text(role.get("beginDate")),
                "endDate": _text(role.get("endDate")),
                "orgSourcedId": org,
                "userProfileSourcedId": _text(role.get("userProfile")),
            }
        )
    return rows
