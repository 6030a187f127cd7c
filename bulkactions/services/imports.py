"""Every write to an import job: upload, column mapping, fixes, commit, abandon, resume.

Views and the import_users command call these; the work itself runs in
bulkactions.tasks (validation, hashing, commit) and lives in bulkactions.importing.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import audit
from accounts.models import Role, User
from bulkactions.importing.columns import (
    FIELDS_BY_NAME,
    columns_match,
    fields_for,
    header_key,
    missing_fields,
)
from bulkactions.importing.parse import FileRejected, table_read
from bulkactions.importing.review import job_totals_refresh, row_remove, row_revalidate
from bulkactions.models import (
    ImportJob,
    ImportKind,
    ImportMapping,
    ImportMode,
    ImportPasswordMode,
    ImportRow,
    ImportStatus,
    RowStatus,
)
from schools.models import District


def _new_token() -> str:
    return uuid.uuid4().hex


def _enqueue(task, job: ImportJob, run_token: str) -> None:
    transaction.on_commit(lambda: task.delay(job.district_id, job.pk, run_token))


def import_start(
    *,
    district: District,
    actor: User | None,
    kind: str,
    file_name: str,
    data: bytes,
    password_mode: str = ImportPasswordMode.EMAIL,
    mode: str = ImportMode.CREATE,
    mapping: dict[str, str] | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Stores the file and starts checking it, or asks for the columns to be matched first.
    A file that is not a table is refused here, with what to do about it. With
    `enqueue=False` (the import_users command) the caller runs the step itself."""
    from bulkactions.tasks import validate_import

    if actor is not None and actor.role not in (Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN):
        raise ValidationError("Only admins can import accounts")
    if kind not in ImportKind.values:
        raise ValidationError({"kind": ["Select staff or students"]})
    if kind == ImportKind.STAFF:
        password_mode = ImportPasswordMode.EMAIL
    try:
        table = table_read(data, file_name=file_name)
    except FileRejected as error:
        raise ValidationError({"file": [str(error)]}) from error
    if not any(table.header):
        raise ValidationError({"file": ["The first row must hold the column names"]})
    remembered = (
        ImportMapping.objects.filter(district=district, kind=kind)
        .values_list("columns", flat=True)
        .first()
    )
    if mapping is None:
        mapping = columns_match(
            table.header, kind=kind, password_mode=password_mode, remembered=remembered
        )
    else:
        check = ImportJob(kind=kind, password_mode=password_mode, header=table.header)
        problems = {
            key: messages
            for key, messages in mapping_problems(mapping, check).items()
            if key != "__all__"  # missing columns lead to the mapping step, as usual
        }
        if problems:
            raise ValidationError(
                {"mapping": [m for messages in problems.values() for m in messages]}
            )
    job = ImportJob(
        district=district,
        created_by=actor,
        created_by_label=audit.actor_label(actor),
        kind=kind,
        password_mode=password_mode,
        mode=mode,
        file_name=file_name[:255],
        file_size=len(data),
        file_data=data,
        file_format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        header=table.header,
        mapping=mapping,
    )
    missing = missing_fields(mapping, kind=kind, password_mode=password_mode)
    with transaction.atomic():
        if missing:
            job.status = ImportStatus.MAPPING
            job.save()
        else:
            job.status = ImportStatus.VALIDATING
            job.run_token = _new_token()
            job.started_at = job.heartbeat_at = timezone.now()
            job.save()
            if enqueue:
                _enqueue(validate_import, job, job.run_token)
        audit.record(
            actor=actor,
            action="bulkactions.import.uploaded",
            target=job,
            district=district,
            after={"file": job.file_name, "kind": kind, "mode": mode},
        )
    return job


def mapping_problems(mapping: dict[str, str], job: ImportJob) -> dict[str, list[str]]:
    """What is wrong with a column → field mapping for this job's file and kind."""
    allowed = {f.name for f in fields_for(job.kind, job.password_mode)}
    errors: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for index, name in mapping.items():
        if name not in allowed or not index.isdigit() or int(index) >= len(job.header):
            errors[f"column-{index}"] = ["Select a field from the list"]
        elif name in seen:
            label = FIELDS_BY_NAME[name].label
            errors[f"column-{index}"] = [
                f"“{label}” is already chosen for column {int(seen[name]) + 1}: "
                "choose it for one column only"
            ]
        else:
            seen[name] = index
    for name in missing_fields(mapping, kind=job.kind, password_mode=job.password_mode):
        errors.setdefault("__all__", []).append(
            f"Choose the column that holds the {FIELDS_BY_NAME[name].label.lower()}"
        )
    return errors


def import_map(
    *, job: ImportJob, actor: User | None, mapping: dict[str, str], enqueue: bool = True
) -> ImportJob:
    """Uses the admin's column choices, remembers them for the district, starts checking."""
    from bulkactions.tasks import validate_import

    if job.status != ImportStatus.MAPPING:
        raise ValidationError("This import's columns are already matched")
    errors = mapping_problems(mapping, job)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        remembered, _ = ImportMapping.objects.get_or_create(district=job.district, kind=job.kind)
        for index, name in mapping.items():
            key = header_key(job.header[int(index)])
            if key:
                remembered.columns[key] = name
        remembered.save()
        job.mapping = mapping
        job.status = ImportStatus.VALIDATING
        job.run_token = _new_token()
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["mapping", "status", "run_token", "started_at", "heartbeat_at"])
        audit.record(
            actor=actor,
            action="bulkactions.import.mapped",
            target=job,
            district=job.district,
            after={header: FIELDS_BY_NAME[name].label for header, name in _named(job).items()},
        )
        if enqueue:
            _enqueue(validate_import, job, job.run_token)
    return job


def _named(job: ImportJob) -> dict[str, str]:
    return {job.header[int(index)]: name for index, name in job.mapping.items()}


def _require_review(job: ImportJob) -> None:
    if job.status != ImportStatus.REVIEW:
        raise ValidationError("This import can no longer be changed")


def import_row_fix(*, row: ImportRow, actor: User | None, values: dict[str, str]) -> ImportRow:
    """Saves an admin's inline fix and checks the row again at once."""
    job = row.job
    _require_review(job)
    allowed = {f.name for f in fields_for(job.kind, job.password_mode)}
    cleaned = {name: str(value)[:1000] for name, value in values.items() if name in allowed}
    before = {k: row.values.get(k, "") for k in cleaned if k != "password"}
    row = row_revalidate(row, {**row.values, **cleaned})
    after = {k: row.values.get(k, "") for k in cleaned if k != "password"}
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed or cleaned.get("password"):
        audit.record(
            actor=actor,
            action="bulkactions.import.row_fixed",
            target=job,
            district=job.district,
            before={"row": row.number, **{k: before[k] for k in changed}},
            after={
                "row": row.number,
                **changed,
                **({"password": "changed"} if cleaned.get("password") else {}),
            },
        )
    return row


def import_row_remove(*, row: ImportRow, actor: User | None) -> ImportRow:
    _require_review(row.job)
    if row.status == RowStatus.REMOVED:
        return row
    row = row_remove(row)
    audit.record(
        actor=actor,
        action="bulkactions.import.row_removed",
        target=row.job,
        district=row.job.district,
        after={"row": row.number},
    )
    return row


def import_commit(
    *, job: ImportJob, actor: User | None, skip_errors: bool = False, enqueue: bool = True
) -> ImportJob:
    """Starts creating the accounts: only when no row has an error, or when the admin
    chose to leave the rows with errors out."""
    from bulkactions.tasks import commit_import

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk, district=job.district)
        if job.status in (ImportStatus.COMMITTING, ImportStatus.DONE):
            return job  # a second click, or a second tab
        _require_review(job)
        job_totals_refresh(job)
        if job.error_rows and not skip_errors:
            rows = "1 row has" if job.error_rows == 1 else f"{job.error_rows:,} rows have"
            them = "it" if job.error_rows == 1 else "them"
            raise ValidationError(f"{rows} errors: fix or remove {them}, or choose to skip {them}")
        if not job.rows_to_create:
            raise ValidationError("No row is ready: fix the errors first")
        job.status = ImportStatus.COMMITTING
        job.skip_errors = bool(job.error_rows)
        job.run_token = _new_token()
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "skip_errors", "run_token", "started_at", "heartbeat_at"])
        audit.record(
            actor=actor,
            action="bulkactions.import.commit_started",
            target=job,
            district=job.district,
            after={"rows": job.rows_to_create, "skipping": job.error_rows},
        )
        if enqueue:
            _enqueue(commit_import, job, job.run_token)
    return job


def import_abandon(*, job: ImportJob, actor: User | None) -> ImportJob:
    """Drops an import before anything is written; its rows and file are deleted."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk, district=job.district)
        if job.status == ImportStatus.ABANDONED:
            return job
        if job.status not in (
            ImportStatus.MAPPING,
            ImportStatus.REVIEW,
            ImportStatus.VALIDATING,
            ImportStatus.FAILED,
        ):
            raise ValidationError(
                "Accounts are already being created: this import cannot be abandoned"
            )
        job.status = ImportStatus.ABANDONED
        job.run_token = ""
        job.file_data = b""
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "run_token", "file_data", "finished_at"])
        ImportRow.objects.filter(job=job).delete()
        audit.record(
            actor=actor, action="bulkactions.import.abandoned", target=job, district=job.district
        )
    return job


def import_is_stalled(job: ImportJob, now=None) -> bool:
    now = now or timezone.now()
    limit = timedelta(minutes=settings.IMPORT_STALL_MINUTES)
    return job.is_running and (job.heartbeat_at is None or now - job.heartbeat_at > limit)


def import_resume(*, job: ImportJob, actor: User | None) -> ImportJob:
    """Restarts a step whose worker stopped: validation starts over (nothing was written),
    commit carries on after the last finished batch."""
    from bulkactions.tasks import commit_import, validate_import

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk, district=job.district)
        if not import_is_stalled(job):
            return job
        job.run_token = _new_token()
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["run_token", "heartbeat_at"])
        audit.record(
            actor=actor,
            action="bulkactions.import.resumed",
            target=job,
            district=job.district,
            after={"step": job.status},
        )
        task = validate_import if job.status == ImportStatus.VALIDATING else commit_import
        _enqueue(task, job, job.run_token)
    return job


def credentials_download_record(*, target, actor: User, what: str) -> None:
    """Every download of sign-in details is in the audit trail (an import or a bulk action)."""
    kind = "import" if isinstance(target, ImportJob) else "bulk_action"
    audit.record(
        actor=actor,
        action=f"bulkactions.{kind}.credentials_downloaded",
        target=target,
        district=target.district,
        after={"format": what},
    )


def credentials_purge(*, job: ImportJob) -> int:
    """Forgets the passwords of an import whose credentials page has expired."""
    return ImportRow.objects.filter(job=job).exclude(secret="").update(secret="")
