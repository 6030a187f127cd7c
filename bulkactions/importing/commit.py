"""Writing a reviewed import: accounts, schools, class enrolments and audit rows in batches.

Each batch is one transaction that also records its rows' outcomes, under a lock on
the job row, so a rerun (worker restart, retried task) skips what is done and never
creates an account twice. Passwords are hashed before, by `passwords_hash_chunk` tasks
that the workers run in parallel. Activation emails are queued per batch after commit.
"""

import logging

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import audit
from accounts.models import PasswordMode, Role, Status, User
from accounts.services.users import user_snapshot, username_base, username_free
from bulkactions.importing import bulk, commit_sql
from bulkactions.importing.review import Superseded
from bulkactions.models import (
    ImportJob,
    ImportMode,
    ImportRow,
    ImportStatus,
    RowOutcome,
    RowStatus,
)
from bulkactions.secrets import secret_open, secret_seal
from schools.models import Enrollment, School, YearGroup

log = logging.getLogger(__name__)
# Rows per transaction: each batch costs a few round trips and a commit besides its rows,
# which at 2,000 was an eighth of writing 100,000 accounts.
BATCH = 5000
HASH_CHUNK = 100
# Accounts per invitation task: enough that queueing 100,000 costs little (each message is
# a round trip to the broker), few enough that the workers share the mailing.
INVITE_CHUNK = 500
READY = (RowStatus.VALID, RowStatus.WARNING)
NOT_READY = tuple(status for status in RowStatus.values if status not in READY)
# New accounts written by the server on PostgreSQL (commit_sql); off, by the Python path
# every database has (tests compare the two).
CREATE_IN_DATABASE = True


def rows_pending(job: ImportJob):
    return ImportRow.objects.filter(job=job, status__in=READY, outcome="")


def rows_needing_hash(job: ImportJob):
    """Rows whose account gets a password and has no hash yet (update rows without a
    password in the file keep the one they have)."""
    return rows_pending(job).filter(password_hash="", resolved__has_key="password")


def passwords_hash_chunk(job: ImportJob, first_number: int) -> int:
    """Hashes (and, where the file gave none, generates) the passwords of the next chunk
    of rows from `first_number`; returns how many it hashed."""
    from accounts.services.credentials import password_generate

    rows = list(rows_needing_hash(job).filter(number__gte=first_number)[:HASH_CHUNK])
    for row in rows:
        password = secret_open(row.secret)
        if not password:
            # To generate, or a password from the file that can no longer be read (the
            # encryption key changed): either way the student gets a fresh one.
            password = password_generate(district=job.district)
            row.secret = secret_seal(password)
        row.password_hash = make_password(password)
    ImportRow.objects.bulk_update(rows, ["secret", "password_hash"])
    return len(rows)


def hash_chunk_starts(job: ImportJob) -> list[int]:
    numbers = list(rows_needing_hash(job).values_list("number", flat=True).order_by("number"))
    return numbers[::HASH_CHUNK]


def job_commit(job: ImportJob, run_token: str, *, on_progress=None) -> None:
    """Writes every ready row not written yet, then finishes the job (batches on several
    connections at once on PostgreSQL: bulk.batches_write)."""
    # Never the file: it can be megabytes, and commit does not need it.
    job = (
        ImportJob.objects.select_related("district", "created_by").defer("file_data").get(pk=job.pk)
    )
    context = _Context(job)
    if context.sql is not None:
        _fail_taken_before(context, run_token)
    ids = list(rows_pending(job).order_by("number").values_list("pk", flat=True))
    batches = bulk.batches_split(ids, BATCH)
    bulk.batches_write(
        context.district,
        batches,
        lambda number, batch: _commit_batch(context, run_token, batch, number),
        on_progress=on_progress,
    )
    _finish(job, run_token)


# The accounts table grows under the clash checks' feet: PostgreSQL gets fresh statistics
# after these batches, or it keeps planning for the small table it saw at the start.
ANALYZE_AFTER_BATCHES = {4, 16}


def _commit_batch(context: "_Context", run_token: str, ids: list[int], number: int) -> None:
    job = context.job
    if number in ANALYZE_AFTER_BATCHES and context.sql is None:
        bulk.analyze(User)
    with transaction.atomic():
        bulk.commit_lazily()
        if not ImportJob.objects.filter(pk=job.pk, run_token=run_token).exists():
            raise Superseded(job.pk)
        # Locked, and only those still unwritten: a second run of the same step waits
        # here, then finds them done.
        pending = ImportRow.objects.select_for_update().filter(pk__any_of=ids, outcome="")
        if context.sql is not None:
            counts = _write_batch_in_database(context, pending)
        else:
            counts = _write_batch(context, _rows(pending))
        updated = ImportJob.objects.filter(pk=job.pk, run_token=run_token).update(
            heartbeat_at=timezone.now(),
            created_count=F("created_count") + counts[RowOutcome.CREATED],
            updated_count=F("updated_count") + counts[RowOutcome.UPDATED],
            unchanged_count=F("unchanged_count") + counts[RowOutcome.UNCHANGED],
            failed_count=F("failed_count") + counts[RowOutcome.FAILED],
        )
        if not updated:
            raise Superseded(job.pk)
        transaction.on_commit(lambda: audit.people_changed(job.district_id))


def _finish(job: ImportJob, run_token: str) -> None:
    from datetime import timedelta

    from bulkactions.tasks import send_import_summary

    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().defer("file_data").get(pk=job.pk)
        if locked.run_token != run_token:
            raise Superseded(job.pk)
        if locked.status != ImportStatus.COMMITTING:
            return
        skipped = ImportRow.objects.filter(
            job=job,
            outcome="",
            status__in=NOT_READY,  # by the (job, status) index
        ).update(outcome=RowOutcome.SKIPPED)
        now = timezone.now()
        expires = now + timedelta(hours=settings.IMPORT_CREDENTIALS_HOURS)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE,
            skipped_count=locked.skipped_count + skipped,
            finished_at=now,
            heartbeat_at=now,
            file_data=b"",  # personal data: the rows keep what the results need
            credentials_expire_at=expires if locked.sets_passwords else None,
        )
        locked.refresh_from_db()
        audit.record(
            actor=locked.created_by,
            action="bulkactions.import.committed",
            target=locked,
            district=locked.district,
            after={
                "file": locked.file_name,
                "created": locked.created_count,
                "updated": locked.updated_count,
                "unchanged": locked.unchanged_count,
                "skipped": locked.skipped_count,
                "failed": locked.failed_count,
            },
        )
        transaction.on_commit(lambda: send_import_summary.delay(job.district_id, job.pk))


def _rows(pending) -> list[ImportRow]:
    # A ready row's errors and warnings: empty, or notes commit never writes.
    return list(pending.defer("errors", "warnings").order_by("number"))


class _Context:
    """What every batch of one job needs, loaded once."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.district = job.district
        self.actor = job.created_by
        self.actor_label = audit.actor_label(self.actor)
        self.schools = {s.pk: s for s in School.objects.filter(district=self.district)}
        self.years = {y.pk: y for y in YearGroup.objects.filter(district=self.district)}
        self.exempt = self.district.students_exempt_from_password_change
        self.unusable = make_password(None)
        self.make_user = bulk.Maker(User, district_id=self.district.pk, source="import")
        # Rows whose generated username had to move on at commit (their `resolved` changed).
        self.renamed: set[int] = set()
        # On PostgreSQL, new accounts are written by the server (commit_sql).
        self.sql = (
            commit_sql.constants(
                district_id=self.district.pk,
                job_id=job.pk,
                actor=self.actor,
                actor_label=self.actor_label,
                exempt=self.exempt,
                unusable=self.unusable,
            )
            if CREATE_IN_DATABASE and bulk.is_postgres()
            else None
        )


def _write_batch(context: _Context, rows: list[ImportRow]) -> dict[str, int]:
    counts = dict.fromkeys(RowOutcome.values, 0)
    creates = [row for row in rows if not row.resolved.get("user_id")]
    updates = [row for row in rows if row.resolved.get("user_id")]
    if context.job.mode == ImportMode.CREATE:
        updates, creates = [], rows
    _fail_taken(context, creates)
    creates = [row for row in creates if not row.outcome]
    counts[RowOutcome.CREATED] = _create(context, creates)
    for row in updates:
        counts[_update(context, row)] += 1
    counts[RowOutcome.FAILED] = sum(1 for row in rows if row.outcome == RowOutcome.FAILED)
    return counts


def _write_batch_in_database(context: _Context, pending) -> dict[str, int]:
    """New accounts by one SQL statement; matched accounts (update mode) one by one, and
    the whole batch by the Python path if a clash appeared since _fail_taken_before."""
    ids = list(pending.order_by("number").values_list("pk", flat=True))
    updates = set()
    if context.job.mode == ImportMode.UPDATE:
        updates = set(pending.filter(resolved__has_key="user_id").values_list("pk", flat=True))
    creates = [pk for pk in ids if pk not in updates]
    counts = dict.fromkeys(RowOutcome.values, 0)
    if creates:
        try:
            with transaction.atomic():
                made = commit_sql.create_rows(context.sql, creates, timezone.now())
        except IntegrityError:
            # An account made meanwhile holds a row's email or username: the Python path
            # finds which rows, and fails or renames only those.
            made = None
            counts = _write_batch(context, _rows(pending.filter(pk__any_of=creates)))
        if made is not None:
            counts[RowOutcome.CREATED] = len(made)
            invite = [user_id for user_id, invited in made if invited]
            if invite:
                _queue_invitations(context, invite)
    if updates:
        for outcome, count in _write_batch(context, _rows(pending.filter(pk__in=updates))).items():
            counts[outcome] += count
    return counts


def _fail_taken_before(context: _Context, run_token: str) -> None:
    """Before the SQL batches: the rows to create whose email, username or SIS id an
    account took since the review fail (or, for a generated username, move on), as
    _fail_taken does per batch. Found by one join rather than a lookup per batch; an
    account made while the batches run is caught by the unique indexes (email, username)."""
    job = context.job
    with transaction.atomic():
        if not ImportJob.objects.select_for_update().filter(pk=job.pk, run_token=run_token):
            raise Superseded(job.pk)
        ids = commit_sql.clashing_rows(context.sql)
        if not ids:
            return
        rows = _rows(rows_pending(job).filter(pk__any_of=ids))
        _fail_taken(context, rows)
        renamed = [row for row in rows if row.pk in context.renamed]
        if renamed:
            ImportRow.objects.bulk_update(renamed, ["resolved", "username_key"])
            context.renamed.clear()
        failed = sum(1 for row in rows if row.outcome == RowOutcome.FAILED)
        ImportJob.objects.filter(pk=job.pk).update(failed_count=F("failed_count") + failed)


def _fail_taken(context: _Context, rows: list[ImportRow]) -> None:
    """Accounts made since the review may now hold a row's email, username or SIS id:
    such a row fails with the reason; a generated username simply moves on to a free one."""
    if not rows:
        return
    district = context.district
    emails = {row.email_key for row in rows if row.email_key}
    usernames = {row.username_key for row in rows}
    sis_ids = {row.sis_key for row in rows if row.sis_key}
    # Three lookups, each through its case-insensitive index, rather than one OR.
    users = User.objects.filter(district=district).order_by()
    taken_emails = set(
        users.exclude(email="")  # the unique index on lower(email) leaves out empty ones
        .annotate(key=Lower("email"))
        .filter(key__any_of=list(emails))
        .values_list("key", flat=True)
    )
    taken_usernames = set(
        users.annotate(key=Lower("username"))
        .filter(key__any_of=list(usernames))
        .values_list("key", flat=True)
    )
    taken_sis = set(
        users.annotate(key=Lower("sis_id"))
        .filter(key__any_of=list(sis_ids))
        .values_list("key", flat=True)
    )
    # An account without an email or SIS id takes none: "" matches no row.
    taken_emails.discard("")
    taken_sis.discard("")
    for row in rows:
        if row.email_key in taken_emails or row.sis_key in taken_sis:
            what = "email address" if row.email_key in taken_emails else "SIS id"
            _mark(row, RowOutcome.FAILED, f"Another account got this {what} after the review")
        elif row.username_key in taken_usernames:
            if not row.resolved.get("username_generated"):
                _mark(row, RowOutcome.FAILED, "Another account got this username after the review")
                continue
            base = username_base(
                pattern=district.username_pattern,
                first_name=row.values.get("first_name", ""),
                last_name=row.values.get("last_name", ""),
            )
            taken = {
                name.lower()
                for name in User.objects.filter(
                    district=district, username__istartswith=base
                ).values_list("username", flat=True)
            } | usernames
            row.resolved["username"] = username_free(base, taken)
            row.username_key = row.resolved["username"].lower()
            context.renamed.add(row.pk)
            usernames.add(row.username_key)
    failed = [row for row in rows if row.outcome == RowOutcome.FAILED]
    if failed:
        ImportRow.objects.bulk_update(failed, ["outcome", "outcome_message"])


YEAR_GROUP = User._meta.get_field("year_group")


def _mark(row: ImportRow, outcome: str, message: str = "") -> None:
    row.outcome, row.outcome_message = outcome, message


def _user_from(context: _Context, row: ImportRow, now) -> User:
    values, resolved = row.values, row.resolved
    role = resolved.get("role", Role.STUDENT)
    year = context.years.get(resolved.get("year_group_id"))
    user = context.make_user(
        role=role,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        email=values.get("email", ""),
        username=resolved["username"],
        sis_id=values.get("sis_id", ""),
        year_group_id=year.pk if year else None,
        created_at=now,
    )
    YEAR_GROUP.set_cached_value(user, year)  # as User(year_group=year) would
    if row.password_hash:
        user.password = row.password_hash
        user.password_mode = PasswordMode.STAFF
        user.status = Status.ACTIVE
        user.must_change_password = not (role == Role.STUDENT and context.exempt)
        user.password_changed_at = now
    else:
        user.password = context.unusable
        user.invited_at = now if user.email else None
    user.refresh_derived(schools=[context.schools[sid] for sid in resolved.get("school_ids", [])])
    return user


def _snapshot(context: _Context, user: User, school_ids) -> dict:
    schools = [context.schools[sid] for sid in school_ids]
    return {**user_snapshot(user, schools=schools), "import": context.job.pk}


def _create(context: _Context, rows: list[ImportRow]) -> int:
    if not rows:
        return 0
    now = timezone.now()
    users = [_user_from(context, row, now) for row in rows]
    try:
        with transaction.atomic():
            bulk.insert(User, users, with_ids=True)
    except IntegrityError:
        # A clash the check above could not see (a concurrent write): one by one, so
        # only the clashing rows fail.
        users = _create_one_by_one(context, rows, users)
    made = [(row, user) for row, user in zip(rows, users, strict=True) if user.pk]
    bulk.insert_values(
        User.schools.through,
        ["user", "school"],
        ((user.pk, sid) for row, user in made for sid in row.resolved.get("school_ids", [])),
    )
    bulk.insert_values(
        Enrollment,
        ["district", "classroom", "student", "created_at"],
        (
            (context.district.pk, cid, user.pk, now)
            for row, user in made
            for cid in row.resolved.get("classroom_ids", [])
        ),
    )
    bulk.audit_users(
        district_id=context.district.pk,
        actor=context.actor,
        rows=(
            (
                "accounts.user.created",
                user.pk,
                audit.target_label(user),
                {},
                _snapshot(context, user, row.resolved.get("school_ids", [])),
            )
            for row, user in made
        ),
        now=now,
    )
    for row, user in made:
        _mark(row, RowOutcome.CREATED)
        row.user_id = user.pk
    bulk.rows_mark(ImportRow, [(row.pk, user.pk) for row, user in made], RowOutcome.CREATED)
    renamed = [row for row, _ in made if row.pk in context.renamed]
    if renamed:
        ImportRow.objects.bulk_update(renamed, ["resolved", "username_key"])
    failed = [row for row in rows if row.outcome == RowOutcome.FAILED]
    if failed:
        ImportRow.objects.bulk_update(failed, ["outcome", "outcome_message"])
    invite = [user.pk for _, user in made if user.email and user.status == Status.INVITED]
    if invite:
        _queue_invitations(context, invite)
    return len(made)


def _create_one_by_one(context: _Context, rows: list[ImportRow], users: list[User]) -> list[User]:
    for row, user in zip(rows, users, strict=True):
        user.pk = None
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            user.pk = None
            _mark(row, RowOutcome.FAILED, "Another account already has this email or username")
    return users


def _queue_invitations(context: _Context, user_ids: list[int]) -> None:
    from bulkactions.tasks import send_import_invitations

    job = context.job
    for start in range(0, len(user_ids), INVITE_CHUNK):
        chunk = user_ids[start : start + INVITE_CHUNK]
        transaction.on_commit(
            lambda chunk=chunk: send_import_invitations.delay(job.district_id, job.pk, chunk)
        )


def _update(context: _Context, row: ImportRow) -> str:
    """One matched account: the changes the review showed, plus classes and a password."""

    user = (
        User.objects.select_for_update()
        .filter(district=context.district, pk=row.resolved["user_id"])
        .first()
    )
    if user is None:
        _mark(row, RowOutcome.FAILED, "The account was deleted after the review")
        row.save(update_fields=["outcome", "outcome_message"])
        return RowOutcome.FAILED
    before = user_snapshot(user)
    changes = row.resolved.get("changes", {})
    for name in ("first_name", "last_name", "email", "username", "sis_id"):
        if name in changes:
            setattr(user, name, changes[name][1])
    if "role" in changes:
        user.role = row.resolved["role"]
    if "year_group" in changes:
        user.year_group_id = row.resolved["year_group_id"]
    new_classes = set(row.resolved.get("classroom_ids", [])) - set(
        Enrollment.objects.filter(student=user).values_list("classroom_id", flat=True)
    )
    if not changes and not new_classes and not row.password_hash:
        _mark(row, RowOutcome.UNCHANGED)
        row.user_id = user.pk
        row.save(update_fields=["outcome", "outcome_message", "user"])
        return RowOutcome.UNCHANGED
    if row.password_hash:
        user.password = row.password_hash
        user.must_change_password = not (user.role == Role.STUDENT and context.exempt)
        user.password_changed_at = timezone.now()
        user.password_mode = PasswordMode.STAFF
        if user.status == Status.INVITED:
            user.status = Status.ACTIVE
    try:
        with transaction.atomic():
            user.save()
            if "schools" in changes:
                user.set_schools([context.schools[sid] for sid in row.resolved["school_ids"]])
            Enrollment.objects.bulk_create(
                [
                    Enrollment(district=context.district, classroom_id=cid, student=user)
                    for cid in sorted(new_classes)
                ]
            )
    except IntegrityError:
        _mark(row, RowOutcome.FAILED, "Another account got this email or username after the review")
        row.save(update_fields=["outcome", "outcome_message"])
        return RowOutcome.FAILED
    after = user_snapshot(user)
    changed = {k: v for k, v in after.items() if before[k] != v}
    audit.record(
        actor=context.actor,
        action="accounts.user.updated",
        target=user,
        before={k: before[k] for k in changed},
        after={**changed, "import": context.job.pk},
    )
    _mark(row, RowOutcome.UPDATED)
    row.user_id = user.pk
    row.save(update_fields=["outcome", "outcome_message", "user"])
    return RowOutcome.UPDATED
