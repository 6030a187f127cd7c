"""People and what happens to their accounts: users, one-time tokens, logins, audit, outbox.

One User model serves everyone in a district. Platform operators (superusers of
the bare domain) are the only users without a district.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from schools.models import District, School, YearGroup


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", "District admin"
    SCHOOL_ADMIN = "school_admin", "School admin"
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"
    GUARDIAN = "guardian", "Guardian"


STAFF_ROLES = {Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER}
ADMIN_ROLES = {Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN}


class Status(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated"


class Source(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    ROSTER = "roster", "Roster"
    SSO = "sso", "SSO"
    SELF = "self", "Self-registered"


class PasswordMode(models.TextChoices):
    SELF = "self", "Sets own password (activation email)"
    STAFF = "staff", "Password set by staff"


def search_text_for(*parts: str) -> str:
    """Lowercase, accent-free text that list searches match against (prefix or substring)."""
    import unicodedata

    joined = " ".join(part for part in parts if part)
    folded = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().split())


def account_search_text(first_name, last_name, username, email, sis_id) -> str:
    """An account's search_text: names, username, the email without its domain, SIS id.
    The domain is the same for a whole school, so it would find everyone; it was also half
    of each account's entries in the trigram index that every write of a name pays for.
    Searches for a whole address match the email itself (accounts.selectors)."""
    return search_text_for(first_name, last_name, username, email.rsplit("@", 1)[0], sis_id)


def account_search_text_sql(first_name, last_name, username, email, sis_id) -> str:
    """account_search_text as a PostgreSQL expression over SQL expressions."""
    local = f"regexp_replace({email}, '@[^@]*$', '')"  # as rsplit("@", 1)[0]
    return search_text_sql(first_name, last_name, username, local, sis_id)


def search_text_sql(*parts: str) -> str:
    """search_text_for as a PostgreSQL expression over the SQL expressions `parts`, for
    accounts written by SQL (imports): NFKD, every non-ASCII character dropped, lowercased,
    runs of what Python's split() takes for whitespace made one space."""
    joined = f"concat_ws(' ', {', '.join(f'nullif({part}, {chr(39) * 2})' for part in parts)})"
    # Text that is ASCII already (one byte per character) skips NFKD and the regex.
    folded = rf"regexp_replace(normalize({joined}, NFKD), '[^\u0001-\u007f]', '', 'g')"
    ascii_only = (
        f"CASE WHEN octet_length({joined}) = char_length({joined}) THEN {joined} ELSE {folded} END"
    )
    spaces = r"'[ \t\n\u000b\f\r\u001c-\u001f]+'"
    return f"btrim(regexp_replace(lower({ascii_only}), {spaces}, ' ', 'g'), ' ')"


def school_names_for(schools) -> str:
    """User.school_names: the names of the user's schools, sorted and joined."""
    return "; ".join(sorted(school.name for school in schools))[:500]


class UserManager(BaseUserManager):
    use_in_migrations = False

    def get_by_natural_key(self, username):
        # Only Django's own commands (createsuperuser) ask this: they mean platform operators.
        return self.with_scopes_disabled().get(district__isnull=True, username__iexact=username)

    def create_superuser(self, username, email=None, password=None, **extra):
        user = self.model(
            username=username,
            email=self.normalize_email(email or ""),
            is_staff=True,
            is_superuser=True,
            status=Status.ACTIVE,
            first_name=extra.get("first_name", ""),
            last_name=extra.get("last_name", ""),
        )
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    # No index of its own: every index below starts with the district, and each one
    # costs every insert and update of an account (imports, syncs, bulk actions).
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="users",
        db_index=False,
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    username = models.CharField(max_length=150)
    email = models.EmailField(max_length=254, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INVITED)
    # Set when someone other than the user chose the password (admin, import, teacher).
    must_change_password = models.BooleanField(default=False)
    password_mode = models.CharField(
        max_length=10, choices=PasswordMode.choices, default=PasswordMode.SELF
    )
    # No foreign key constraints in the database on the membership table (Django still
    # deletes a user's or a school's memberships with them): imports and rostering write
    # memberships by the hundred thousand with their new accounts, and each check locked
    # that new account again, a WAL record per membership.
    schools = models.ManyToManyField(
        School, blank=True, related_name="members", db_constraint=False
    )
    # No index of its own either: the year group filter's index below starts with the
    # district, and deleting a year group (rare) may scan.
    year_group = models.ForeignKey(
        YearGroup, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    sis_id = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    managed_by_sis = models.BooleanField(default=False)
    case_manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,  # the partial index below: only the assigned pay for it
    )
    access_denied = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False, help_text="Platform operator (admin site).")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # When the last invitation or reminder was asked for (the email follows after commit).
    invited_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    # Derived from names, username, email and SIS id (see save()); lists search it.
    search_text = models.CharField(max_length=800, blank=True, editable=False)
    # The user's school names, sorted and joined: lists sort and show it without a join.
    school_names = models.CharField(max_length=500, blank=True, editable=False)
    # The year group's ordinal: lists sort by year through an index, without a join.
    year_ordinal = models.SmallIntegerField(null=True, blank=True, editable=False)

    # Bumped on deactivation: part of the session hash, so every session of the user ends.
    session_version = models.PositiveIntegerField(default=0)

    objects = ScopedManager(_manager_class=UserManager, district="district")

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"), "district", name="user_username_unique_in_district"
            ),
            # Rostered accounts may share an email (co-parents, one SIS person with two
            # ids: DESIGN §3); email sign-in then needs the email to name one account.
            models.UniqueConstraint(
                Lower("email"),
                "district",
                condition=~Q(email="") & Q(managed_by_sis=False),
                name="user_email_unique_in_district",
            ),
            models.UniqueConstraint(
                Lower("username"),
                condition=Q(district__isnull=True),
                name="user_username_unique_platform",
            ),
            models.CheckConstraint(
                condition=Q(district__isnull=False) | Q(is_superuser=True),
                name="user_district_required",
            ),
        ]
        # Every index here is paid by every insert and most updates of an account: an
        # import of 100,000 people or a bulk action on 10,000 writes each one 100,000 or
        # 10,000 times. So only the lists' busiest paths have one (bench/user_list.py
        # keeps p95 well under its budget without the others: another sort or filter
        # sorts or scans one district's rows, tens of milliseconds for 100,000).
        # Above all, no index holds a column that bulk actions, rollover, rostering and
        # sign-ins change (year group, status, last login, dates): PostgreSQL then updates
        # the row in place on its page (HOT, with the room fillfactor leaves: migration
        # 0014), touching no index at all, several times cheaper than a new row version
        # entered in every index, the trigram one included.
        indexes = [
            # Imports and rostering look accounts up by SIS id, case-insensitively.
            models.Index(Lower("sis_id"), "district", name="user_sis_id_lower"),
            # The default sort: a page of the list is an index scan, however deep.
            models.Index(fields=["district", "role", "last_name", "first_name", "id"]),
            # A case manager's students, and the foreign key's deletes; only the assigned
            # have an entry.
            models.Index(
                fields=["case_manager"],
                condition=Q(case_manager__isnull=False),
                name="user_case_manager_assigned",
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # Derived columns, not a side effect: bulk writers call refresh_derived() too.
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.refresh_derived()
        else:
            derived = {"search_text"}
            self.refresh_search_text()
            if {"year_group", "year_group_id"} & set(update_fields):
                self.refresh_year_ordinal()
                derived.add("year_ordinal")
            kwargs["update_fields"] = {*update_fields, *derived}
        super().save(*args, **kwargs)

    def refresh_derived(self, *, schools=None) -> None:
        """Fills every derived column the lists search and sort by: search_text,
        year_ordinal and, given the user's schools, school_names. save() calls it; code that
        writes users in bulk (bulk_create, bulk_update) calls it on each user first, with
        their schools. Assign year_group as an object, not year_group_id, to spare a query
        per user."""
        self.refresh_search_text()
        self.refresh_year_ordinal()
        if schools is not None:
            self.school_names = school_names_for(schools)

    def set_schools(self, schools) -> None:
        """Sets the schools and the derived school_names column together."""
        schools = list(schools)
        self.schools.set(schools)
        self.school_names = school_names_for(schools)
        type(self).objects.filter(pk=self.pk).update(school_names=self.school_names)

    def refresh_search_text(self) -> None:
        self.search_text = account_search_text(
            self.first_name, self.last_name, self.username, self.email, self.sis_id
        )

    def refresh_year_ordinal(self) -> None:
        self.year_ordinal = self.year_group.ordinal if self.year_group_id else None

    def get_session_auth_hash(self):
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "rollbook.session", f"{self.password}:{self.session_version}", algorithm="sha256"
        ).hexdigest()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status != Status.DEACTIVATED and not self.access_denied

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_district_admin(self) -> bool:
        return self.role == Role.DISTRICT_ADMIN


class GuardianLink(models.Model):
    """A parent or guardian and one of their students (from the SIS's agents, or by hand)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(User, on_delete=models.CASCADE, related_name="student_links")
    student = models.ForeignKey(User, on_delete=models.CASCADE, related_name="guardian_links")
    managed_by_sis = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint("guardian", "student", name="guardianlink_unique")]
        indexes = [models.Index(fields=["student"])]

    def __str__(self):
        return f"Guardian {self.guardian_id} of student {self.student_id}"


class TokenPurpose(models.TextChoices):
    ACTIVATE = "activate", "Activation"
    RESET = "reset", "Password reset"


class ActivationToken(models.Model):
    """A one-time link. Only the SHA-256 of the token is kept; the token lives in the email."""

    district = models.ForeignKey(District, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=10, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The email request this token answers: a retried task finds it and sends nothing new.
    dispatch_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(district="district")

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self):
        return f"{self.get_purpose_display()} link for user {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.used_at is None and self.voided_at is None and self.expires_at > timezone.now()


class LoginEvent(models.Model):
    """One sign-in attempt: for throttling now and login statistics later."""

    district = models.ForeignKey(District, on_delete=models.CASCADE)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    identifier = models.CharField(max_length=254)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ScopedManager(district="district")

    class Meta:
        indexes = [
            models.Index(fields=["district", "identifier", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self):
        return f"{'Sign-in' if self.succeeded else 'Failed sign-in'} as {self.identifier}"


class AuditEvent(models.Model):
    """Who did what to whom, with the state before and after. Kept after users are deleted."""

    # An import or bulk action writes one event per account, so each costs little: no index
    # of its own for the district (both indexes below start with it), and no foreign key
    # constraints in the database, whose checks at commit cost as much as the COPY. Django
    # still cascades and nulls them on delete (on_delete).
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["district", "-created_at"]),
            models.Index(fields=["district", "target_type", "target_id"]),
        ]

    def __str__(self):
        return f"{self.action} {self.target_label}"


class OutboxMessage(models.Model):
    """An email the in-app outbox backend kept instead of sending (development default)."""

    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.CASCADE)
    to = models.TextField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # [{"name", "mimetype", "content" (base64)}]: kept so a developer can open them.
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.subject} to {self.to}"
