"""Reading a OneRoster CSV bundle (a zip with manifest.csv) into validated tables.

Rows are kept as tuples of the columns the sync uses, not dicts of every column: a large
district's 400,000 enrollments would otherwise cost gigabytes. Every problem is reported
with its file, line and sourcedId; any problem fails the whole bundle (nothing is applied).
"""

import csv
import io
import re
import sys
import zipfile
from array import array
from dataclasses import dataclass, field

from django.conf import settings

from rostering.oneroster import spec
from rostering.oneroster.errors import BundleInvalid, SourceError

# The columns the sync reads, per file; the first is always sourcedId, the second status.
KEEP = {
    "orgs.csv": ("sourcedId", "status", "name", "type", "identifier", "parentSourcedId"),
    "academicSessions.csv": (
        "sourcedId",
        "status",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ),
    "courses.csv": ("sourcedId", "status", "title", "orgSourcedId"),
    "classes.csv": (
        "sourcedId",
        "status",
        "title",
        "classCode",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
        "grades",
        "courseSourcedId",
    ),
    "users.csv": (
        "sourcedId",
        "status",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "givenName",
        "familyName",
        "identifier",
        "email",
        "agentSourcedIds",
        "grades",
        "primaryOrgSourcedId",
        "preferredGivenName",
        "preferredFamilyName",
    ),
    "roles.csv": ("sourcedId", "status", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "enrollments.csv": (
        "sourcedId",
        "status",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
    ),
}
# Columns of one version that the other lacks: absent ones read as "".
_VERSION_ONLY = {
    spec.V1_1: {"primaryOrgSourcedId", "preferredGivenName", "preferredFamilyName"},
    spec.V1_2: {"orgSourcedIds", "role"},
}
# Reference columns repeat a handful of ids hundreds of thousands of times: interned.
_INTERN = {"status", "schoolSourcedId", "classSourcedId", "userSourcedId", "orgSourcedId", "role"}

MAX_ERRORS = 100
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR = re.compile(r"^\d{4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Table:
    file: str
    mode: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    # Line numbers as a compact array: one int object per row would cost 28 bytes more.
    lines: array = field(default_factory=lambda: array("l"))

    def index(self, column: str) -> int:
        return self.columns.index(column)


@dataclass
class Bundle:
    version: str
    tables: dict[str, Table]
    warnings: list[dict] = field(default_factory=list)

    def mode(self, file: str) -> str:
        table = self.tables.get(file)
        return table.mode if table else "absent"

    def rows(self, file: str) -> list[tuple]:
        table = self.tables.get(file)
        return table.rows if table else []

    def release(self, *files: str) -> None:
        """Drops files' rows once the diff has taken what it needs (their mode stays)."""
        for file in files:
            table = self.tables.get(file)
            if table is not None:
                table.rows, table.lines = [], array("l")


class _Problems:
    def __init__(self):
        self.errors: list[SourceError] = []
        self.more = 0
        self.warnings: list[dict] = []

    def error(self, message, *, file="", line=None, sourced_id=""):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(SourceError(message, file=file, line=line, sourced_id=sourced_id))
        else:
            self.more += 1

    def warn(self, message, *, file="", line=None, sourced_id=""):
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(
                {"message": message, "file": file, "line": line, "sourced_id": sourced_id}
            )

    def raise_if_any(self):
        if self.errors:
            raise BundleInvalid(self.errors, more=self.more)


def bundle_read(data: bytes) -> Bundle:
    """A zip as uploaded, fetched or written from a REST fetch, checked whole."""
    limit = settings.ROSTER_MAX_BUNDLE_MB * 1024 * 1024
    if len(data) > limit:
        raise SourceError(
            f"The bundle is {len(data) / 1048576:.0f} MB; the limit is "
            f"{settings.ROSTER_MAX_BUNDLE_MB} MB. Ask your SIS for a delta export, or raise "
            "ROSTER_MAX_BUNDLE_MB."
        )
    if not data:
        raise SourceError("The file is empty. Export the OneRoster CSV bundle (a .zip) again.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SourceError(
            "This is not a complete zip file: it may have been cut off during the upload or "
            "download, or it is not a OneRoster CSV bundle. Export the bundle again."
        ) from None
    with archive:
        members = _members(archive)
        problems = _Problems()
        version, modes = _manifest(archive, members, problems)
        problems.raise_if_any()
        tables = {}
        for file in spec.ROSTER_FILES:
            mode = modes.get(file, "absent")
            if file not in spec.COLUMNS[version] or file == "demographics.csv":
                # Rollbook keeps no demographic data: the file is allowed and not read.
                continue
            if mode == "absent":
                continue
            if file not in members:
                problems.error(
                    f"The manifest lists {file} as {mode}, but the zip has no {file}.",
                    file="manifest.csv",
                )
                continue
            tables[file] = _read_csv(archive, members[file], file, mode, version, problems)
        problems.raise_if_any()
    return _finish(version, tables, problems)


def bundle_from_rows(rows: dict[str, list[dict]], *, version: str, mode: str) -> Bundle:
    """The tables of a REST fetch: each collection's rows, already CSV-shaped."""
    problems = _Problems()
    tables = {}
    for file in spec.ROSTER_FILES:
        if file not in rows or file not in KEEP or file not in spec.COLUMNS[version]:
            continue
        header = list(spec.COLUMNS[version][file])
        records = ((n, [row.get(c, "") for c in header]) for n, row in enumerate(rows[file], 1))
        tables[file] = _table(file, mode, version, header, records, problems)
    problems.raise_if_any()
    return _finish(version, tables, problems)


def _finish(version, tables, problems) -> Bundle:
    # An empty delta is a quiet day; a bundle with no roster file at all is a mistake.
    if not tables:
        raise SourceError("The bundle holds no roster files: every file is absent.")
    return Bundle(version=version, tables=tables, warnings=problems.warnings)


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The bundle's files by name. The spec puts them at the zip's root; a zip of the
    folder that holds them is accepted too, as admins often make one."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    total = sum(info.file_size for info in infos)
    if total > settings.ROSTER_MAX_UNCOMPRESSED_MB * 1024 * 1024:
        raise SourceError(
            f"The bundle unpacks to {total / 1048576:.0f} MB; the limit is "
            f"{settings.ROSTER_MAX_UNCOMPRESSED_MB} MB."
        )
    for info in infos:
        # A zip bomb unpacks to hundreds of times its size; real CSV compresses ~10x.
        if info.compress_size and info.file_size / info.compress_size > 200:
            raise SourceError(
                f"{info.filename} unpacks to {info.file_size / info.compress_size:.0f} times "
                "its packed size, which no CSV export does. The bundle was refused."
            )
    names = {info.filename: info for info in infos}
    if "manifest.csv" in names:
        return names
    nested = [name for name in names if name.endswith("/manifest.csv")]
    if len(nested) == 1:
        prefix = nested[0][: -len("manifest.csv")]
        return {
            name[len(prefix) :]: info for name, info in names.items() if name.startswith(prefix)
        }
    raise SourceError(
        "The zip has no manifest.csv, so it is not a OneRoster CSV bundle. Export the "
        "bundle from your SIS's OneRoster export (it includes manifest.csv)."
    )


def _manifest(archive, members, problems) -> tuple[str, dict[str, str]]:
    with archive.open(members["manifest.csv"]) as raw:
        text = _text(raw.read(), "manifest.csv")
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    if header[:2] != ["propertyName", "value"]:
        raise SourceError(
            "manifest.csv must start with the header propertyName,value.",
            file="manifest.csv",
            line=1,
        )
    properties = {}
    for row in reader:
        if len(row) >= 2 and row[0].strip():
            properties[row[0].strip()] = row[1].strip()
    version = properties.get("oneroster.version", "")
    if version not in spec.VERSIONS:
        raise SourceError(
            f"manifest.csv says oneroster.version is {version or 'blank'}; Rollbook reads "
            "OneRoster 1.1 and 1.2 bundles.",
            file="manifest.csv",
        )
    modes = {}
    for file in spec.COLUMNS[version]:
        mode = properties.get(f"file.{file.removesuffix('.csv')}")
        if mode is None:
            if file in members:
                problems.warn(
                    f"manifest.csv does not list {file}; it was read as a bulk file.",
                    file="manifest.csv",
                )
                mode = "bulk"
            else:
                mode = "absent"
        elif mode not in spec.MANIFEST_MODES:
            problems.error(
                f"manifest.csv gives file.{file.removesuffix('.csv')} the value {mode!r}; "
                "it must be bulk, delta or absent.",
                file="manifest.csv",
            )
        modes[file] = mode
    if all(mode == "absent" for mode in modes.values()):
        problems.error("manifest.csv marks every file absent: there is nothing to sync.")
    return version, modes


def _text(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceError(
            "The file is not UTF-8 text. Export it again as UTF-8 (OneRoster bundles are UTF-8).",
            file=file,
            line=line,
        ) from None


def _read_csv(archive, member, file, mode, version, problems) -> Table:
    """Streams the member through the CSV reader: a 400,000-line enrollments.csv is never
    held as one string (nor twice, as bytes and text)."""
    with archive.open(member) as raw:
        return _read_stream(raw, archive, member, file, mode, version, problems)


def _read_stream(raw, archive, member, file, mode, version, problems) -> Table:
    # Large reads: the zip member decompresses slowly in the small ones csv asks for.
    text = io.TextIOWrapper(
        io.BufferedReader(raw, buffer_size=1 << 20), encoding="utf-8-sig", newline=""
    )
    reader = csv.reader(text)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if not header:
            problems.error(
                "The file is empty: it needs at least its header row.", file=file, line=1
            )
            return Table(file=file, mode=mode, columns=KEEP[file])

        def records():
            for values in reader:
                if values:
                    yield reader.line_num, values

        return _table(file, mode, version, header, records(), problems)
    except UnicodeDecodeError:
        # The stream decodes ahead of the reader: the whole member says which line it is.
        with archive.open(member) as again:
            _text(again.read(), file)
        raise
    except zipfile.BadZipFile:
        raise SourceError(
            "The zip is damaged here (a checksum does not match): export the bundle again.",
            file=file,
        ) from None
    except csv.Error as error:
        raise SourceError(
            f"The file is not valid CSV here ({error}).", file=file, line=reader.line_num
        ) from None


def _table(file, mode, version, header, records, problems) -> Table:
    keep = KEEP[file]
    table = Table(file=file, mode=mode, columns=keep)
    missing = [
        c
        for c in keep
        if c not in header and c not in _VERSION_ONLY[version] and c != "dateLastModified"
    ]
    required = list(spec.REQUIRED[file])
    if file == "users.csv" and version == spec.V1_1:
        required += spec.REQUIRED_V1_1_USERS
    missing_required = [c for c in required if c not in header]
    if missing_required or missing:
        problems.error(
            f"The header lacks the column{'s' if len(missing_required or missing) > 1 else ''} "
            f"{', '.join(missing_required or missing)} that OneRoster {version} requires.",
            file=file,
            line=1,
        )
        return table
    absent = [c for c in spec.COLUMNS[version][file] if c not in header]
    if absent:
        problems.warn(
            f"The header lacks the spec's column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(absent)}; the file was read without them.",
            file=file,
            line=1,
        )
    positions = [header.index(c) if c in header else None for c in keep]
    required_at = [keep.index(c) for c in required if c in keep]
    check = _CHECKS[file]
    width = len(header)
    intern = sys.intern
    interned = [i for i, c in enumerate(keep) if c in _INTERN]
    seen: set[str] = set()
    for line, values in records:
        if len(values) != width:
            problems.error(
                f"This row has {len(values)} values where the header has {width} columns "
                "(a comma inside a value needs the value in double quotes).",
                file=file,
                line=line,
                sourced_id=values[0] if values else "",
            )
            continue
        row = [values[p].strip() if p is not None else "" for p in positions]
        for i in interned:
            row[i] = intern(row[i])
        sourced_id = row[0]
        blank = [keep[i] for i in required_at if not row[i]]
        if blank:
            problems.error(
                f"{', '.join(blank)} must not be blank.",
                file=file,
                line=line,
                sourced_id=sourced_id,
            )
            continue
        if sourced_id in seen:
            problems.error(
                "This sourcedId appears twice in the file: each record needs its own.",
                file=file,
                line=line,
                sourced_id=sourced_id,
            )
            continue
        seen.add(sourced_id)
        status = row[1]
        if status not in ("", "active", "tobedeleted"):
            if status in spec.STATUS_ALIASES:
                row[1] = spec.STATUS_ALIASES[status]
            else:
                problems.error(
                    f"status is {status!r}; it must be active or tobedeleted.",
                    file=file,
                    line=line,
                    sourced_id=sourced_id,
                )
                continue
        elif mode == "delta" and not status:
            problems.error(
                "A delta file needs a status on every row (active or tobedeleted).",
                file=file,
                line=line,
                sourced_id=sourced_id,
            )
            continue
        message = check(row, version) if row[1] != "tobedeleted" else None
        if message:
            problems.error(message, file=file, line=line, sourced_id=sourced_id)
            continue
        table.rows.append(tuple(row))
        table.lines.append(line)
    return table


def _vocabulary(value: str, allowed, name: str) -> str | None:
    if value in allowed:
        return None
    return f"{name} is {value!r}; OneRoster allows {', '.join(sorted(allowed))}."


def _grades(value: str) -> str | None:
    for grade in value.split(","):
        grade = grade.strip()
        if grade and grade not in spec.GRADES:
            hint = f" (write {grade.zfill(2)})" if grade.isdigit() and len(grade) == 1 else ""
            return (
                f"grade {grade!r} is not a CEDS grade code{hint}; use IT, PR, PK, TK, KG, "
                "01-13, PS, UG or Other."
            )
    return None


def _boolean(row, index, name) -> str | None:
    value = row[index].lower()
    if value in spec.BOOLEANS:
        row[index] = value
        return None
    return f"{name} is {row[index]!r}; it must be true or false."


def _check_org(row, version):
    return _vocabulary(row[3], spec.ORG_TYPES, "type")


def _check_session(row, version):
    for index, name in ((4, "startDate"), (5, "endDate")):
        if not DATE.match(row[index]):
            return f"{name} is {row[index]!r}; dates are written YYYY-MM-DD."
    if not YEAR.match(row[7]):
        return f"schoolYear is {row[7]!r}; it is the year the school year ends, e.g. 2026."
    return _vocabulary(row[3], spec.SESSION_TYPES, "type")


def _check_course(row, version):
    return None


def _check_class(row, version):
    return _vocabulary(row[4], spec.CLASS_TYPES, "classType") or _grades(row[7])


def _check_user(row, version):
    problem = _boolean(row, 2, "enabledUser") or _grades(row[11])
    if problem:
        return problem
    if version == spec.V1_1:
        return _vocabulary(row[4], spec.USER_ROLES[version], "role")
    return None


def _check_role(row, version):
    return _vocabulary(row[3], spec.ROLE_TYPES, "roleType") or _vocabulary(
        row[4], spec.USER_ROLES[spec.V1_2], "role"
    )


def _check_enrollment(row, version):
    problem = _vocabulary(row[5], spec.ENROLLMENT_ROLES, "role")
    if problem or not row[6]:
        return problem
    return _boolean(row, 6, "primary")


_CHECKS = {
    "orgs.csv": _check_org,
    "academicSessions.csv": _check_session,
    "courses.csv": _check_course,
    "classes.csv": _check_class,
    "users.csv": _check_user,
    "roles.csv": _check_role,
    "enrollments.csv": _check_enrollment,
}
