"""What an import leaves behind for people: the per-row results CSV and the credentials
(CSV and printable PDF slips) of the passwords it set."""

import csv
import io

from accounts.exports import safe_cell
from bulkactions.importing.columns import FIELDS_BY_NAME
from bulkactions.models import ImportJob, ImportRow, RowOutcome, RowStatus
from bulkactions.secrets import secret_open

RESULT_HEADER = ["Row", "Outcome", "First name", "Last name", "Username", "Email", "Message"]
REVIEW_HEADER = ["Row", "Status", "First name", "Last name", "Username", "Email", "Messages"]


def _csv(header: list[str], lines) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for line in lines:
        writer.writerow([safe_cell(str(cell)) for cell in line])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def row_message(row: ImportRow) -> str:
    if row.outcome_message:
        return row.outcome_message
    if row.outcome == RowOutcome.SKIPPED:
        return "; ".join(m for messages in row.errors.values() for m in messages) or "Removed"
    changes = row.resolved.get("changes")
    if row.outcome == RowOutcome.UPDATED and changes:
        return "Changed: " + ", ".join(name.replace("_", " ") for name in changes)
    return ""


def results_csv(job: ImportJob, *, created_only: bool = False) -> bytes:
    """One line per row with its outcome; with `created_only`, the new accounts' usernames."""
    rows = ImportRow.objects.filter(job=job).exclude(outcome="").order_by("number")
    if created_only:
        rows = rows.filter(outcome=RowOutcome.CREATED)
    lines = (
        [
            row.number,
            RowOutcome(row.outcome).label,
            row.values.get("first_name", ""),
            row.values.get("last_name", ""),
            row.resolved.get("username", ""),
            row.values.get("email", ""),
            row_message(row),
        ]
        for row in rows.iterator(chunk_size=2000)
    )
    return _csv(RESULT_HEADER, lines)


def problems_in_order(problems: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """A row's errors or warnings, the whole row's ("_row") first, then in column order
    (PostgreSQL's jsonb does not keep the order they were found in)."""
    order = {name: n for n, name in enumerate(FIELDS_BY_NAME, start=1)}
    return sorted(problems.items(), key=lambda item: order.get(item[0], 0))


def row_problems(problems: dict[str, list[str]]) -> list[str]:
    """A row's errors or warnings as "Field: message"."""
    return [
        f"{FIELDS_BY_NAME[name].label}: {message}" if name in FIELDS_BY_NAME else message
        for name, messages in problems_in_order(problems)
        for message in messages
    ]


def review_csv(job: ImportJob) -> bytes:
    """One line per checked row, before anything is written: what the review page shows,
    for the import_users command's dry runs and refused imports."""
    rows = ImportRow.objects.filter(job=job).exclude(status=RowStatus.REMOVED).order_by("number")
    lines = (
        [
            row.number,
            RowStatus(row.status).label,
            row.values.get("first_name", ""),
            row.values.get("last_name", ""),
            row.resolved.get("username", ""),
            row.values.get("email", ""),
            "; ".join(
                row_problems(row.errors) + [f"Warning: {m}" for m in row_problems(row.warnings)]
            ),
        ]
        for row in rows.iterator(chunk_size=2000)
    )
    return _csv(REVIEW_HEADER, lines)


def credentials(job: ImportJob) -> list[dict]:
    """Name, username, class and password of each account the import gave a password."""
    rows = (
        ImportRow.objects.filter(job=job, outcome__in=(RowOutcome.CREATED, RowOutcome.UPDATED))
        .exclude(secret="")
        .order_by("number")
    )
    found = []
    for row in rows.iterator(chunk_size=2000):
        password = secret_open(row.secret)
        if password:
            found.append(
                {
                    "first_name": row.values.get("first_name", ""),
                    "last_name": row.values.get("last_name", ""),
                    "username": row.resolved.get("username", ""),
                    "year_group": row.values.get("year_group", ""),
                    "classes": row.values.get("classrooms", ""),
                    "password": password,
                }
            )
    return found


def bulk_action_credentials(action) -> list[dict]:
    """As `credentials`, for the people a bulk action gave a new password."""
    from bulkactions.models import ItemOutcome

    items = (
        action.items.filter(outcome=ItemOutcome.CHANGED, user__isnull=False)
        .exclude(secret="")
        .select_related("user", "user__year_group")
    )
    return [
        {
            "first_name": item.user.first_name,
            "last_name": item.user.last_name,
            "username": item.user.username,
            "year_group": item.user.year_group.name if item.user.year_group_id else "",
            "classes": "",
            "password": secret_open(item.secret),
        }
        for item in items
    ]


def credentials_file(*, district, people: list[dict], file_format: str):
    """The sign-in details as (content, MIME type): a CSV, or printable PDF slips; None
    for a format there is no such file in."""
    from bulkactions.importing.slips import slips_pdf

    if file_format == "pdf":
        exempt = district.students_exempt_from_password_change
        return slips_pdf(district=district, people=people, must_change=not exempt), (
            "application/pdf"
        )
    if file_format != "csv":
        return None
    login = district.url("/login/")
    content = _csv(
        ["First name", "Last name", "Username", "Password", "Year group", "Classes", "Sign in at"],
        (
            [
                c["first_name"],
                c["last_name"],
                c["username"],
                c["password"],
                c["year_group"],
                c["classes"],
                login,
            ]
            for c in people
        ),
    )
    return content, "text/csv; charset=utf-8"
