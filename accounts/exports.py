"""Spreadsheets of a district's people (CSV and XLSX), for the lists' Export button and the
`export_users` command. Every text cell is defused against formula injection (DESIGN §4),
and the query count does not grow with the number of rows.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tablib
from django.db.models import Prefetch
from django.utils import timezone

from accounts.selectors import LIST_KINDS, STAFF, STUDENTS
from schools.models import Classroom, District, Enrollment, School

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_SIZE = 2000

# OWASP "CSV Injection": a cell starting with one of these may run as a formula in Excel,
# LibreOffice or Google Sheets; a leading quote makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX file cannot hold (openpyxl refuses the whole workbook).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

COLUMNS = {
    STUDENTS: (
        "Username",
        "First name",
        "Last name",
        "Email",
        "Year group",
        "Schools",
        "Classrooms",
        "Status",
        "Source",
        "SIS ID",
        "Case manager",
        "Last login",
        "Created",
    ),
    STAFF: (
        "Username",
        "First name",
        "Last name",
        "Email",
        "Role",
        "Schools",
        "Classes taught",
        "Status",
        "Source",
        "SIS ID",
        "Last login",
        "Created",
    ),
}


def users_export(*, users, kind: str, file_format: str) -> tuple[bytes, str, str]:
    """The users as a file: (content, content type, file extension). `users` is any
    queryset of the district's users (already filtered and ordered, run in its scope)."""
    content_type = _content_type(file_format)
    return (
        dataset_content(users_dataset(users=users, kind=kind), file_format),
        content_type,
        file_format,
    )


def users_dataset(*, users, kind: str) -> tablib.Dataset:
    """One row per user, every cell already safe to open in a spreadsheet."""
    if kind not in LIST_KINDS:
        raise ValueError(f"Unknown kind {kind!r}: use one of {', '.join(sorted(LIST_KINDS))}.")
    dataset = tablib.Dataset(headers=list(COLUMNS[kind]), title=kind.capitalize())
    row = _student_row if kind == STUDENTS else _staff_row
    for user in _with_row_joins(users, kind).iterator(chunk_size=CHUNK_SIZE):
        dataset.append([safe_cell(value) for value in row(user)])
    return dataset


def dataset_content(dataset: tablib.Dataset, file_format: str) -> bytes:
    _content_type(file_format)
    if file_format == "xlsx":
        return dataset.export("xlsx")
    # The BOM tells Excel the file is UTF-8; without it accented names come out garbled.
    return dataset.export("csv").encode("utf-8-sig")


def export_filename(district: District, kind: str, file_format: str) -> str:
    """e.g. alpha-students-2026-11-23.csv, dated in the district's own time zone."""
    try:
        zone = ZoneInfo(district.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return f"{district.slug}-{kind}-{timezone.localdate(timezone=zone).isoformat()}.{file_format}"


def safe_cell(value: str) -> str:
    value = CONTROL_CHARACTERS.sub("", value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _content_type(file_format: str) -> str:
    try:
        return FORMATS[file_format]
    except KeyError:
        raise ValueError(
            f"Unknown export format {file_format!r}: use one of {', '.join(FORMATS)}."
        ) from None


def _with_row_joins(users, kind: str):
    # A caller's own prefetches (a list page's) would clash with these: start afresh.
    users = users.select_related("year_group", "case_manager").prefetch_related(None)
    schools = Prefetch("schools", queryset=School.objects.order_by("name", "id"))
    # Archived classrooms are past years' classes, not what a person is in now.
    if kind == STUDENTS:
        classes = Prefetch(
            "enrollments",
            queryset=Enrollment.objects.filter(classroom__archived_at=None)
            .select_related("classroom")
            .order_by("classroom__name", "classroom_id"),
            to_attr="current_enrollments",
        )
    else:
        classes = Prefetch(
            "classrooms_taught",
            queryset=Classroom.objects.filter(archived_at=None).order_by("name", "id"),
            to_attr="current_classrooms",
        )
    return users.prefetch_related(schools, classes)


def _student_row(user) -> list[str]:
    return [
        user.username,
        user.first_name,
        user.last_name,
        user.email,
        user.year_group.name if user.year_group else "",
        _names(user.schools.all()),
        _names(enrollment.classroom for enrollment in user.current_enrollments),
        user.get_status_display(),
        user.get_source_display(),
        user.sis_id,
        (user.case_manager.full_name or user.case_manager.username) if user.case_manager else "",
        _utc(user.last_login),
        _utc(user.created_at),
    ]


def _staff_row(user) -> list[str]:
    return [
        user.username,
        user.first_name,
        user.last_name,
        user.email,
        user.get_role_display(),
        _names(user.schools.all()),
        _names(user.current_classrooms),
        user.get_status_display(),
        user.get_source_display(),
        user.sis_id,
        _utc(user.last_login),
        _utc(user.created_at),
    ]


def _names(items) -> str:
    return "; ".join(item.name for item in items)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
