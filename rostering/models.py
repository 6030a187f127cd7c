"""Rostering: connections to a district's SIS, the runs that sync from them, and the link
between each SIS record (connection, type, sourcedId) and the Rollbook row it became.

A rostered record's identity is never an email or a username (DESIGN §3): RosterRecord
holds the sourcedId, the Rollbook id and a digest of what the SIS last said, so an
unchanged re-sync is a comparison of digests, not of rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from schools.models import District


class ConnectionKind(models.TextChoices):
    CSV_UPLOAD = "csv_upload", "OneRoster CSV bundle, uploaded"
    CSV_URL = "csv_url", "OneRoster CSV bundle, fetched from an HTTPS address"
    REST = "rest", "OneRoster REST API"


class Version(models.TextChoices):
    V1_1 = "1.1", "OneRoster 1.1"
    V1_2 = "1.2", "OneRoster 1.2"


class Auth(models.TextChoices):
    OAUTH2 = "oauth2", "OAuth 2.0 client credentials"
    OAUTH1 = "oauth1", "OAuth 1.0a (HMAC-SHA256)"
    NONE = "none", "None"


class Schedule(models.TextChoices):
    MANUAL = "manual", "Only when started by hand"
    HOURLY = "hourly", "Every hour"
    DAILY = "daily", "Daily at a set time"


class ActivationEmails(models.TextChoices):
    SEND = "send", "Send an activation email to new accounts with an email address"
    HOLD = "hold", "Create accounts as invited, send no email yet"
    NONE = "none", "None: people sign in with single sign-on"


class RosterConnection(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=ConnectionKind.choices)
    version = models.CharField(max_length=3, choices=Version.choices, default=Version.V1_1)
    # The REST service's base (…/ims/oneroster/v1p1) or the bundle's HTTPS address.
    url = models.URLField(max_length=500, blank=True)
    token_url = models.URLField(max_length=500, blank=True)
    auth = models.CharField(max_length=8, choices=Auth.choices, default=Auth.OAUTH2)
    client_id = models.CharField(max_length=255, blank=True)
    # Fernet-sealed with FIELD_ENCRYPTION_KEY; never rendered back to anyone.
    secret_sealed = models.TextField(blank=True)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.DAILY)
    daily_at = models.TimeField(default="02:00")
    threshold_pct = models.PositiveSmallIntegerField(default=10)
    activation_emails = models.CharField(
        max_length=6, choices=ActivationEmails.choices, default=ActivationEmails.HOLD
    )
    is_enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    # REST delta fetches start from the last applied fetch (minus an overlap); a full
    # fetch a day catches the deletes that deltas do not show.
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_full_fetch_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "district", name="rosterconnection_name_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_sealed)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PREVIEWED = "previewed", "Dry run"
    HELD = "held", "Held for approval"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Sync now"
    UPLOAD = "upload", "Upload"
    COMMAND = "command", "Command"


class SyncRun(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(RosterConnection, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    dry_run = models.BooleanField(default=False)
    # A REST fetch of what changed since the last one (filter on dateLastModified).
    is_delta = models.BooleanField(default=False)
    # The bundle as received (uploads, URL fetches, REST fetches written as a bundle): an
    # approval applies exactly what the admin reviewed. Dropped once the run is over.
    bundle = models.BinaryField(null=True, blank=True, editable=False)
    bundle_name = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=3, blank=True)
    # {"user": {"created": n, "updated": n, "deactivated": n, "unchanged": n, ...}, ...}
    counts = models.JSONField(default=dict, blank=True)
    # [{"message", "file", "line", "sourced_id"}]: why the run failed, or what to know.
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    hold_reason = models.TextField(blank=True)
    phase = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A district never runs two syncs at once: the claim is this constraint.
            models.UniqueConstraint(
                "district", condition=Q(status="running"), name="syncrun_one_running_per_district"
            )
        ]
        indexes = [models.Index(fields=["district", "connection", "-created_at"])]

    def __str__(self):
        return f"Sync {self.pk} of {self.connection}"

    @property
    def is_over(self) -> bool:
        return self.status in {
            RunStatus.PREVIEWED,
            RunStatus.APPLIED,
            RunStatus.FAILED,
            RunStatus.REJECTED,
            RunStatus.SUPERSEDED,
        }

    @property
    def is_running(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def change_count(self) -> int:
        """Every record the run creates, changes or removes (approving applies these)."""
        return sum(
            count
            for entity in self.counts.values()
            for action, count in entity.items()
            if action not in ("unchanged", "ignored")
        )


class Entity(models.TextChoices):
    ORG = "org", "Organisation"
    SESSION = "session", "Academic session"
    COURSE = "course", "Course"
    CLASS = "class", "Class"
    USER = "user", "User"
    ENROLLMENT = "enrollment", "Enrollment"


class RosterRecord(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        RosterConnection, on_delete=models.CASCADE, related_name="records"
    )
    entity = models.CharField(max_length=10, choices=Entity.choices)
    sourced_id = models.CharField(max_length=255)
    # The Rollbook row: School, Term, Classroom, User, Enrollment or teacher link (by entity).
    target_id = models.BigIntegerField(null=True, blank=True)
    # What the SIS last said, hashed: equal digests mean nothing to do.
    digest = models.CharField(max_length=32)
    is_active = models.BooleanField(default=True)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "connection", "entity", "sourced_id", name="rosterrecord_unique_sourced_id"
            )
        ]

    def __str__(self):
        return f"{self.entity} {self.sourced_id}"


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DEACTIVATE = "deactivate", "Deactivated"
    LINK = "link", "Linked to an existing account"
    RESTORE = "restore", "Restored"


class SyncChange(models.Model):
    """One record the run creates, changes or removes, with the fields that change: the
    diff an admin reviews before approving a held run. Capped per entity and action."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="changes")
    entity = models.CharField(max_length=10, choices=Entity.choices)
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    sourced_id = models.CharField(max_length=255)
    label = models.CharField(max_length=255)
    # {"field": [before, after]}
    fields = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "entity", "action", "id"])]

    def __str__(self):
        return f"{self.action} {self.entity} {self.sourced_id}"
