"""The tenant (District) and what sits inside it: schools, year groups, classrooms.

Every model but District carries a non-null `district` and a scoped manager, so
a query made outside `scope(district=...)` raises instead of reading every tenant.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django_scopes import ScopedManager

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lowercase letters, digits or hyphens, not starting or ending with a hyphen.",
)

RESERVED_SLUGS = {"www", "admin", "api", "static", "media", "mail", "platform", "app"}


class District(models.Model):
    class Terminology(models.TextChoices):
        YEAR = "year", "Year"
        GRADE = "grade", "Grade"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    custom_domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    # Branding, shown on every page and email of the district.
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_content_type = models.CharField(max_length=40, blank=True)
    logo_version = models.PositiveIntegerField(default=0)
    brand_colour = models.CharField(max_length=7, default="#1d4f91")
    contact_line = models.CharField(max_length=200, blank=True)
    terminology = models.CharField(
        max_length=10, choices=Terminology.choices, default=Terminology.YEAR
    )
    # Accounts policy.
    username_pattern = models.CharField(max_length=60, default="{first}.{last}")
    password_min_length = models.PositiveSmallIntegerField(default=8)
    students_exempt_from_password_change = models.BooleanField(default=False)
    activation_days = models.PositiveSmallIntegerField(default=7)
    # Automatic reminders for invitations still not accepted after this many days; 0: off.
    reminder_after_days = models.PositiveSmallIntegerField(default=0)
    reset_hours = models.PositiveSmallIntegerField(default=24)
    academic_year_start_month = models.PositiveSmallIntegerField(default=9)
    time_zone = models.CharField(max_length=60, default="Europe/London")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def host(self) -> str:
        from django.conf import settings

        return self.custom_domain or f"{self.slug}.{settings.BASE_DOMAIN}"

    def url(self, path: str = "/") -> str:
        """An absolute URL on this district's host, as links in emails need."""
        from django.conf import settings

        port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
        return f"{settings.SITE_SCHEME}://{self.host}{port}{path}"


class School(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="schools")
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=30, blank=True)
    sis_id = models.CharField(max_length=255, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "district", name="school_name_unique_in_district"
            )
        ]

    def __str__(self):
        return self.name


class YearGroup(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="year_groups")
    ordinal = models.SmallIntegerField(help_text="Sort order: lower is younger.")
    name = models.CharField(max_length=40)
    grade_code = models.CharField(max_length=10, blank=True, help_text="OneRoster grade, e.g. 07.")
    # The year group students move to at rollover; none means they leave.
    next = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="previous"
    )

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["ordinal"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "district", name="yeargroup_name_unique"),
            models.UniqueConstraint("district", "ordinal", name="yeargroup_ordinal_unique"),
        ]

    def __str__(self):
        return self.name


class Term(models.Model):
    """An academic session from the SIS: a school year, or a term, semester or grading
    period inside one. Classrooms point at the term they run in."""

    class Kind(models.TextChoices):
        SCHOOL_YEAR = "schoolYear", "School year"
        TERM = "term", "Term"
        SEMESTER = "semester", "Semester"
        GRADING_PERIOD = "gradingPeriod", "Grading period"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.TERM)
    starts_on = models.DateField()
    ends_on = models.DateField()
    # The year the school year ends, as OneRoster's schoolYear: 2026 for 2025-26.
    school_year = models.PositiveSmallIntegerField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    sis_id = models.CharField(max_length=255, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-school_year", "starts_on", "name"]

    def __str__(self):
        return self.name


class Classroom(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="classrooms")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classrooms")
    name = models.CharField(max_length=120)
    year_group = models.ForeignKey(YearGroup, null=True, blank=True, on_delete=models.SET_NULL)
    teachers = models.ManyToManyField("accounts.User", blank=True, related_name="classrooms_taught")
    sis_id = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=60, blank=True)
    term = models.ForeignKey(Term, null=True, blank=True, on_delete=models.SET_NULL)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["school__name", "name"]
        constraints = [
            # SIS classes often share a title across sections ("Maths"): only classrooms
            # made here need a name of their own.
            models.UniqueConstraint(
                Lower("name"),
                "school",
                condition=Q(sis_id=""),
                name="classroom_name_unique_in_school",
            )
        ]

    def __str__(self):
        return self.name


class Enrollment(models.Model):
    # Imports and rostering write these by the hundred thousand: no index of their own on
    # the district (only a district's deletion asks for all its rows) or the classroom
    # (the unique constraint below starts with it). No foreign key constraint in the
    # database on the district (the classroom's own says it) or the student: the student
    # is written in the same statement, and each check locked that new account again, a
    # WAL record per enrolment. Django still cascades on delete (on_delete).
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    classroom = models.ForeignKey(
        Classroom, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    student = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="enrollments", db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint("classroom", "student", name="enrollment_unique")]

    def __str__(self):
        return f"Student {self.student_id} in classroom {self.classroom_id}"
