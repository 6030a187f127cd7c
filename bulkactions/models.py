"""Imports: the uploaded file, its parsed and validated rows, and what creating them did.

A job moves forward only (uploaded → mapping → validating → review → committing →
done, or abandoned/failed). Nothing touches accounts before `committing`, and each
committed batch records its rows' outcomes in the same transaction as the accounts,
so a retried job carries on where it stopped and never creates anything twice.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from schools.models import District


class ImportKind(models.TextChoices):
    STAFF = "staff", "Staff"
    STUDENTS = "students", "Students"


class ImportPasswordMode(models.TextChoices):
    EMAIL = "email", "Students set their own password (activation email)"
    SET = "set", "Teacher-set passwords (from the file, or generated)"


class ImportMode(models.TextChoices):
    CREATE = "create", "Create new accounts only"
    UPDATE = "update", "Create new accounts and update existing ones"


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", "Columns to match"
    VALIDATING = "validating", "Checking"
    REVIEW = "review", "Ready to review"
    COMMITTING = "committing", "Creating accounts"
    DONE = "done", "Finished"
    ABANDONED = "abandoned", "Abandoned"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    password_mode = models.CharField(
        max_length=10, choices=ImportPasswordMode.choices, default=ImportPasswordMode.EMAIL
    )
    mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.CREATE)
    status = models.CharField(max_length=12, choices=ImportStatus.choices)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveIntegerField(default=0)
    file_data = models.BinaryField(editable=False)
    # What parsing found: "csv" or "xlsx", the encoding and delimiter of a CSV.
    file_format = models.CharField(max_length=5)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    header = models.JSONField(default=list)
    # Column index (as text) → field name; unmatched columns are left out.
    mapping = models.JSONField(default=dict)
    skip_errors = models.BooleanField(default=False)

    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    warning_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    removed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    # Each run of a step takes a new token; a run whose token was replaced stops writing.
    run_token = models.CharField(max_length=32, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    # Set at each step's start and at every batch: a stale heartbeat means the worker died.
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    credentials_expire_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district", "-created_at"])]

    def __str__(self):
        return f"Import #{self.pk} ({self.file_name})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.COMMITTING)

    @property
    def sets_passwords(self) -> bool:
        return self.kind == ImportKind.STUDENTS and self.password_mode == ImportPasswordMode.SET

    @property
    def rows_to_create(self) -> int:
        return self.valid_rows + self.warning_rows

    @property
    def has_credentials(self) -> bool:
        return (
            self.sets_passwords
            and self.status == ImportStatus.DONE
            and self.created_count + self.updated_count > 0
            and self.credentials_expire_at is not None
            and self.credentials_expire_at > timezone.now()
        )


class RowStatus(models.TextChoices):
    VALID = "valid", "Ready"
    WARNING = "warning", "Ready, with warnings"
    ERROR = "error", "Has errors"
    REMOVED = "removed", "Removed"


class RowOutcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class ImportRow(models.Model):
    # A file's rows are written by the hundred thousand, twice (validation, then each
    # outcome): so no foreign key constraints in the database, whose checks cost as much
    # as the COPY, and no index of their own (the job's start the composite ones below).
    # Django still cascades on delete (on_delete).
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    # The row's line in the file, as a spreadsheet shows it (the header is row 1).
    number = models.PositiveIntegerField()
    # Field → the text as the file gave it, trimmed; the admin edits these.
    values = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)
    warnings = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=RowStatus.choices)
    # Lowercased identities, indexed so an inline fix finds the rows it clashes with.
    email_key = models.CharField(max_length=254, blank=True)
    username_key = models.CharField(max_length=150, blank=True)
    sis_key = models.CharField(max_length=255, blank=True)
    # What validation resolved: generated username, school/year/class ids, the account
    # an update matches and the per-field changes. Commit writes exactly this.
    resolved = models.JSONField(default=dict)
    # A teacher-set or generated password, encrypted (bulkactions.secrets), for the
    # credentials page until it expires; never shown elsewhere.
    secret = models.TextField(blank=True)
    # Its hash, made ahead of commit by hashing tasks spread over the workers.
    password_hash = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices, blank=True)
    outcome_message = models.CharField(max_length=500, blank=True)
    # Not indexed: setting the outcome then changes no indexed column, so PostgreSQL
    # updates the row in place (HOT, with the table's fillfactor leaving room on each page).
    # No foreign key constraint in the database either: its check at commit, one per row
    # created, costs as much as the update (Django still nulls it on delete).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint("job", "number", name="importrow_number_unique_in_job")
        ]
        indexes = [
            models.Index(fields=["job", "status", "number"]),
            models.Index(fields=["job", "email_key"]),
            models.Index(fields=["job", "username_key"]),
            models.Index(fields=["job", "sis_key"]),
        ]

    def __str__(self):
        return f"Row {self.number} of import {self.job_id}"


class ImportMapping(models.Model):
    """The columns an admin matched by hand, remembered for the district's next file."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    # Normalised header text → field name.
    columns = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint("district", "kind", name="importmapping_one_per_kind")
        ]

    def __str__(self):
        return f"Column mapping for {self.kind}"


class BulkActionStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class BulkAction(models.Model):
    """One change to many accounts: who asked for it, with what parameters, and how far it
    got. Its items hold each person's result and their state before and after."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="bulk_actions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    # An operation code of bulkactions.operations ("year_group", "deactivate", "undo"...).
    action = models.CharField(max_length=30)
    params = models.JSONField(default=dict)
    # How the people were chosen, in words ("Filter: Year 7", "File: leavers.csv").
    selection = models.CharField(max_length=300, blank=True)
    undo_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by"
    )
    status = models.CharField(
        max_length=10, choices=BulkActionStatus.choices, default=BulkActionStatus.QUEUED
    )
    run_token = models.CharField(max_length=32, blank=True)
    # The wizard draft that started it: a second submit (another tab) finds this one.
    request_key = models.CharField(max_length=32, blank=True)
    total = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                "district",
                "request_key",
                condition=~models.Q(request_key=""),
                name="bulkaction_request_once",
            )
        ]

    def __str__(self):
        return f"Bulk action #{self.pk} ({self.action})"

    @property
    def done_count(self) -> int:
        return self.changed_count + self.skipped_count + self.failed_count

    @property
    def credentials_expire_at(self):
        from datetime import timedelta

        if self.action != "reset_password" or self.finished_at is None:
            return None
        return self.finished_at + timedelta(hours=settings.IMPORT_CREDENTIALS_HOURS)

    @property
    def has_credentials(self) -> bool:
        expires = self.credentials_expire_at
        return bool(expires and expires > timezone.now() and self.changed_count)


class ItemOutcome(models.TextChoices):
    CHANGED = "changed", "Changed"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class BulkActionItem(models.Model):
    # Items are a log written 10,000 at a time, so each costs little: no index of their own
    # for district and bulk action ((bulk_action, id) below serves both), and no
    # foreign key constraints in the database, whose checks at commit cost as much as
    # writing the items. Django still cascades and nulls them on delete (on_delete).
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    bulk_action = models.ForeignKey(
        BulkAction,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    user_label = models.CharField(max_length=300)
    outcome = models.CharField(max_length=10, choices=ItemOutcome.choices, blank=True)
    message = models.CharField(max_length=300, blank=True)
    # The fields the action touches, before and after: what undo restores and checks.
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    # A password the action set, sealed (bulkactions.secrets), for its credentials page.
    secret = models.TextField(blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["id"]
        # Not the outcome: a run then sets outcome, before and after without touching an
        # index (HOT, with the room fillfactor leaves: migration 0008).
        indexes = [models.Index(fields=["bulk_action", "id"])]

    def __str__(self):
        return f"{self.user_label} in bulk action {self.bulk_action_id}"


class Rollover(models.Model):
    """The annual move up a year, once per academic year for a school (or, with no school,
    for the whole district). An undone rollover frees its year again."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="rollovers")
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The calendar year the academic year starts in (2026 for 2026/27).
    academic_year = models.PositiveSmallIntegerField()
    bulk_action = models.OneToOneField(
        BulkAction, on_delete=models.CASCADE, related_name="rollover"
    )
    archived_classrooms = models.JSONField(default=list)
    undone_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "district",
                "school",
                "academic_year",
                condition=models.Q(undone_at__isnull=True, school__isnull=False),
                name="rollover_once_per_school_year",
            ),
            models.UniqueConstraint(
                "district",
                "academic_year",
                condition=models.Q(undone_at__isnull=True, school__isnull=True),
                name="rollover_once_per_district_year",
            ),
        ]

    def __str__(self):
        return f"Rollover {self.academic_year} ({self.school or 'all schools'})"
