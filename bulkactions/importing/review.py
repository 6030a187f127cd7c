"""The whole-file check that fills a job's rows, and the inline fixes made while reviewing.

The file is read twice: a first pass collects the usernames it types (so generated
ones avoid them) and counts rows against the limit; the second validates and stores
rows in batches. Duplicates inside the file are marked on every row involved.
"""

import logging
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from bulkactions.importing import bulk
from bulkactions.importing.parse import FileRejected, table_read
from bulkactions.importing.validate import (
    DistrictIndex,
    RowCheck,
    duplicate_message,
    row_check,
    values_from_cells,
)
from bulkactions.models import ImportJob, ImportRow, ImportStatus, RowStatus
from bulkactions.secrets import secret_open

log = logging.getLogger(__name__)
BATCH = 5000  # rows per stored batch: fewer round trips and commits, bounded memory
KEY_FIELDS = {"email": "email_key", "username": "username_key", "sis_id": "sis_key"}
DUPLICATE_SUFFIX = duplicate_message("email", [1]).rsplit(":", 1)[1]


class Superseded(Exception):
    """Another run of the same step took the job over; this one stops without writing."""


def heartbeat(job: ImportJob, run_token: str, **fields) -> None:
    updated = ImportJob.objects.filter(pk=job.pk, run_token=run_token).update(
        heartbeat_at=timezone.now(), **fields
    )
    if not updated:
        raise Superseded(job.pk)


def job_validate(job: ImportJob, run_token: str, *, on_progress=None) -> None:
    """Parses and validates the whole file into ImportRows, replacing any earlier attempt."""
    try:
        total, typed_usernames = _first_pass(job)
    except FileRejected as error:
        heartbeat(job, run_token, status=ImportStatus.FAILED, failure=str(error))
        return
    heartbeat(job, run_token, total_rows=total, processed_rows=0)
    ImportRow.objects.filter(job=job).delete()
    index = DistrictIndex.whole(job)
    table = table_read(bytes(job.file_data), file_name=job.file_name)
    width = len(job.header)
    taken_in_file = set(typed_usernames)
    first_seen: dict[str, dict[str, int]] = {name: {} for name in KEY_FIELDS}
    clashes: dict[tuple[str, str], list[int]] = {}
    batch: list[tuple] = []
    done = 0
    with bulk.FewerCollections(), bulk.WriteBehind(job.district) as write:
        for number, cells in table.rows:
            check = values_from_cells(cells, job.mapping, width)
            row_check(check, index, taken_in_file=taken_in_file)
            if check.resolved.get("username_generated"):
                taken_in_file.add(check.username_key)
            for name, key in _keys(check).items():
                if not key:
                    continue
                first = first_seen[name].setdefault(key, number)
                if first != number:
                    clashes.setdefault((name, key), [first]).append(number)
                    check.error(name, duplicate_message(name, [first]))
            batch.append(_row_from(job, number, check))
            if len(batch) >= BATCH:
                write(partial(_store, job, run_token, batch, done, on_progress, total))
                done += len(batch)
                batch = []
        write(partial(_store, job, run_token, batch, done, None, total))
        done += len(batch)
    # The rows just loaded are what the next queries plan over: the columns they filter on,
    # from 3,000 rows (the plans only need to know the job's rows are many; 0.03 s, not 0.4).
    bulk.analyze(ImportRow, ROW_FILTERS, sample=10)
    _mark_clashes(job, clashes)
    done_fields = {"status": ImportStatus.REVIEW}
    if job.sets_passwords:
        # The rows hold the passwords now, sealed; the file must go.
        job.file_data = done_fields["file_data"] = b""
    with transaction.atomic():
        heartbeat(job, run_token, **done_fields)
        job_totals_refresh(job)
    if on_progress:
        on_progress(done, total)


def _first_pass(job: ImportJob) -> tuple[int, set[str]]:
    table = table_read(bytes(job.file_data), file_name=job.file_name)
    column = next((int(i) for i, name in job.mapping.items() if name == "username"), None)
    limit = settings.IMPORT_MAX_ROWS
    typed: set[str] = set()
    total = 0
    for _number, cells in table.rows:
        total += 1
        if total > limit:
            raise FileRejected(
                f"The file has more than {limit:,} rows: split it into files of at most "
                f"{limit:,} rows and import them one by one"
            )
        if column is not None and column < len(cells) and cells[column].strip():
            typed.add(cells[column].strip().lower())
    if total == 0:
        raise FileRejected(
            "The file has column names but no rows: add one row per person under the header"
        )
    return total, typed


def _keys(check: RowCheck) -> dict[str, str]:
    return {"email": check.email_key, "username": check.username_key, "sis_id": check.sis_key}


ROW_FILTERS = ["job", "status", "number", "email_key", "username_key", "sis_key", "outcome"]
ROW_COLUMNS = [
    "district",
    "job",
    "number",
    "values",
    "errors",
    "warnings",
    "status",
    "email_key",
    "username_key",
    "sis_key",
    "resolved",
    "secret",
    "password_hash",
    "outcome",
    "outcome_message",
]


def _row_from(job: ImportJob, number: int, check: RowCheck) -> tuple:
    """One ImportRow as the values of ROW_COLUMNS (no model instance: 100,000 of them
    would cost seconds)."""
    return (
        job.district_id,
        job.pk,
        number,
        check.values,
        check.errors,
        check.warnings,
        check.status,
        check.email_key[:254],
        check.username_key[:150],
        check.sis_key[:255],
        check.resolved,
        check.secret,
        "",
        "",
        "",
    )


def _store(job: ImportJob, run_token: str, rows: list[tuple], done: int, on_progress, total):
    """One batch of checked rows, with the progress they make (on a WriteBehind thread)."""
    if not rows:
        return
    with transaction.atomic():
        bulk.commit_lazily()
        heartbeat(job, run_token, processed_rows=done + len(rows))
        bulk.insert_values(ImportRow, ROW_COLUMNS, rows)
    if on_progress:
        on_progress(done + len(rows), total)


def _mark_clashes(job: ImportJob, clashes: dict[tuple[str, str], list[int]]) -> None:
    """Every row of a clash names the others (the later ones named only the first so far)."""
    if not clashes:
        return
    involved: dict[int, dict[str, list[int]]] = {}
    for (name, _key), numbers in clashes.items():
        for number in numbers:
            involved.setdefault(number, {})[name] = [n for n in numbers if n != number]
    rows = list(ImportRow.objects.filter(job=job, number__in=list(involved)))
    for row in rows:
        for name, others in involved[row.number].items():
            _set_duplicate(row, name, others)
    ImportRow.objects.bulk_update(rows, ["errors", "status"], batch_size=BATCH)


def _set_duplicate(row: ImportRow, name: str, others: list[int]) -> None:
    messages = [m for m in row.errors.get(name, []) if not m.endswith(DUPLICATE_SUFFIX)]
    if others:
        messages.append(duplicate_message(name, sorted(others)))
    if messages:
        row.errors[name] = messages
    else:
        row.errors.pop(name, None)
    row.status = (
        RowStatus.ERROR if row.errors else (RowStatus.WARNING if row.warnings else RowStatus.VALID)
    )


def job_totals_refresh(job: ImportJob) -> ImportJob:
    counts = dict(ImportRow.objects.filter(job=job).values_list("status").annotate(n=Count("id")))
    job.valid_rows = counts.get(RowStatus.VALID, 0)
    job.warning_rows = counts.get(RowStatus.WARNING, 0)
    job.error_rows = counts.get(RowStatus.ERROR, 0)
    job.removed_rows = counts.get(RowStatus.REMOVED, 0)
    ImportJob.objects.filter(pk=job.pk).update(
        valid_rows=job.valid_rows,
        warning_rows=job.warning_rows,
        error_rows=job.error_rows,
        removed_rows=job.removed_rows,
    )
    return job


def _others_with_keys(row: ImportRow, keys: dict[str, str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for name, key in keys.items():
        if key:
            found[name] = list(
                ImportRow.objects.filter(job_id=row.job_id, **{KEY_FIELDS[name]: key})
                .exclude(pk=row.pk)
                .exclude(status=RowStatus.REMOVED)
                .order_by("number")
                .values_list("number", flat=True)
            )
    return found


def row_revalidate(row: ImportRow, values: dict[str, str]) -> ImportRow:
    """Checks an edited row again, against the district and against the file's other rows,
    then refreshes the duplicate messages of the rows it clashed with before or now."""
    job = row.job
    old_keys = {name: getattr(row, column) for name, column in KEY_FIELDS.items()}
    check = RowCheck(values={k: v for k, v in values.items() if k != "password"})
    for name, value in list(check.values.items()):
        trimmed = " ".join(value.split()) if name in ("first_name", "last_name") else value.strip()
        if trimmed != value and value.strip():
            check.warn(name, "We removed spaces before or after this value")
        check.values[name] = trimmed
    new_password = values.get("password", "")
    if job.sets_passwords and not new_password and row.secret:
        # The password the row has is checked again too: a fix elsewhere must not let a
        # password that breaks the policy through.
        new_password = secret_open(row.secret)
    if new_password:
        check.values["password"] = new_password
    index = DistrictIndex.for_values(job, check.values)
    taken = set(
        ImportRow.objects.filter(job=job)
        .exclude(pk=row.pk)
        .exclude(status=RowStatus.REMOVED)
        .exclude(username_key="")
        .values_list("username_key", flat=True)
        .filter(username_key__startswith=_base_of(index, check.values))
    )
    row_check(check, index, taken_in_file=taken)
    for name, others in _others_with_keys(row, _keys(check)).items():
        if others:
            check.error(name, duplicate_message(name, others))
    with transaction.atomic():
        row.values, row.errors, row.warnings = check.values, check.errors, check.warnings
        row.resolved, row.status = check.resolved, check.status
        row.email_key, row.username_key = check.email_key[:254], check.username_key[:150]
        row.sis_key = check.sis_key[:255]
        if check.secret:
            row.secret = check.secret
        row.save()
        _refresh_duplicates_of(job, row, old_keys)
        _refresh_duplicates_of(job, row, _keys(check))
        job_totals_refresh(job)
    return row


def _base_of(index: DistrictIndex, values: dict[str, str]) -> str:
    from accounts.services.users import username_base

    return username_base(
        pattern=index.district.username_pattern,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
    )


def _refresh_duplicates_of(job: ImportJob, row: ImportRow, keys: dict[str, str]) -> None:
    """The duplicate messages of the other rows that share one of these keys."""
    query = Q(pk__in=[])
    for name, key in keys.items():
        if key:
            query |= Q(**{KEY_FIELDS[name]: key})
    others = list(
        ImportRow.objects.filter(job=job)
        .filter(query)
        .exclude(pk=row.pk)
        .exclude(status=RowStatus.REMOVED)
    )
    for other in others:
        for name, column in KEY_FIELDS.items():
            key = getattr(other, column)
            numbers = (
                [
                    n
                    for n in ImportRow.objects.filter(job=job, **{column: key})
                    .exclude(pk=other.pk)
                    .exclude(status=RowStatus.REMOVED)
                    .values_list("number", flat=True)
                ]
                if key
                else []
            )
            _set_duplicate(other, name, sorted(numbers))
    ImportRow.objects.bulk_update(others, ["errors", "status"])


def row_remove(row: ImportRow) -> ImportRow:
    """Leaves a row out of the import; rows it clashed with are checked again."""
    with transaction.atomic():
        row.status = RowStatus.REMOVED
        row.save(update_fields=["status"])
        _refresh_duplicates_of(
            row.job, row, {name: getattr(row, column) for name, column in KEY_FIELDS.items()}
        )
        job_totals_refresh(row.job)
    return row


def rows_for_review(job: ImportJob, *, errors_only: bool) -> Iterable[ImportRow]:
    rows = ImportRow.objects.filter(job=job).exclude(status=RowStatus.REMOVED)
    if errors_only:
        rows = rows.filter(status=RowStatus.ERROR)
    return rows.order_by("number")
