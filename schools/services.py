"""Writes to districts: creation (platform) and the settings their admins change."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts import audit
from accounts.models import STAFF_ROLES, Role, Status
from accounts.services.users import username_pattern_errors
from schools.branding import validate_brand_colour, validate_logo
from schools.models import (
    RESERVED_SLUGS,
    Classroom,
    District,
    Enrollment,
    School,
    YearGroup,
    slug_validator,
)

SETTINGS_FIELDS = [
    "brand_colour",
    "contact_line",
    "terminology",
    "username_pattern",
    "password_min_length",
    "students_exempt_from_password_change",
    "activation_days",
    "reset_hours",
    "reminder_after_days",
]


def district_create(*, name: str, slug: str, custom_domain: str = "", actor=None) -> District:
    name, slug = name.strip(), slug.strip().lower()
    errors = {}
    if not name:
        errors["name"] = ["Enter the district's name"]
    try:
        slug_validator(slug)
    except ValidationError as error:
        errors["slug"] = error.messages
    else:
        if slug in RESERVED_SLUGS:
            errors["slug"] = [f"Choose another slug: {slug} is reserved"]
    custom_domain = custom_domain.strip().lower() or None
    if custom_domain and not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", custom_domain):
        errors["custom_domain"] = ["Enter a domain name, like accounts.northfield.org"]
    with scopes_disabled():
        if District.objects.filter(slug=slug).exists():
            errors["slug"] = [f"A district with the slug {slug} already exists"]
        if custom_domain and District.objects.filter(custom_domain=custom_domain).exists():
            errors["custom_domain"] = ["Another district already uses this domain"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        district = District.objects.create(name=name, slug=slug, custom_domain=custom_domain)
        audit.record(
            actor=actor,
            action="schools.district.created",
            target=district,
            district=district,
            after={"name": name, "slug": slug},
        )
    return district


def district_settings_update(
    *, district: District, actor, logo: bytes | None = None, remove_logo: bool = False, **fields
) -> District:
    """Saves branding and account policy; logo bytes are checked to be a real image first."""
    errors = {}
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not district settings: {sorted(unknown)}")
    if "brand_colour" in fields:
        try:
            fields["brand_colour"] = validate_brand_colour(fields["brand_colour"])
        except ValidationError as error:
            errors["brand_colour"] = error.messages
    if "username_pattern" in fields:
        fields["username_pattern"] = fields["username_pattern"].strip()
        if pattern_errors := username_pattern_errors(fields["username_pattern"]):
            errors["username_pattern"] = pattern_errors
    logo_type = None
    if logo is not None:
        try:
            logo_type = validate_logo(logo)
        except ValidationError as error:
            errors["logo"] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        district = District.objects.select_for_update().get(pk=district.pk)
        before = {name: getattr(district, name) for name in fields}
        changed = {name: value for name, value in fields.items() if before[name] != value}
        for name, value in changed.items():
            setattr(district, name, value)
        if logo_type:
            district.logo, district.logo_content_type = logo, logo_type
            district.logo_version += 1
            changed["logo"] = "uploaded"
        elif remove_logo and district.logo:
            district.logo, district.logo_content_type = None, ""
            district.logo_version += 1
            changed["logo"] = "removed"
        if not changed:
            return district
        district.save()
        audit.record(
            actor=actor,
            action="schools.district.settings_updated",
            target=district,
            district=district,
            before={k: before.get(k) for k in changed if k != "logo"},
            after=changed,
        )
    return district


def school_create(*, district: District, name: str, code: str = "", actor=None) -> School:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Enter the school's name"]})
    if School.objects.filter(district=district, name__iexact=name).exists():
        raise ValidationError({"name": [f"This district already has a school called {name}"]})
    with transaction.atomic():
        school = School.objects.create(district=district, name=name, code=code.strip())
        audit.record(
            actor=actor, action="schools.school.created", target=school, after={"name": name}
        )
    return school


def year_groups_create_default(*, district: District, first: int = 7, last: int = 13) -> list:
    """Year groups first..last, each leading to the next; the last leads to leaving."""
    label = district.get_terminology_display()
    groups = [
        YearGroup.objects.create(
            district=district, ordinal=n, name=f"{label} {n}", grade_code=f"{n:02d}"
        )
        for n in range(first, last + 1)
    ]
    for current, following in zip(groups, groups[1:], strict=False):
        current.next = following
        current.save(update_fields=["next"])
    return groups


# Classrooms: admins create them and choose their teachers and students one by one.
# Rostered classrooms (sis_id set) belong to the SIS: its sync is the only writer.

CLASSROOM_NAME_MAX = 120
SIS_MANAGED = "Managed by your SIS: change {name} there and the change arrives with the next sync"
ARCHIVED = "{name} is archived: unarchive it before changing it"


def _classroom_locked(classroom: Classroom, *, allow_archived: bool = False) -> Classroom:
    """The classroom row, locked for this transaction, if it may be changed here."""
    classroom = (
        Classroom.objects.select_for_update()
        .select_related("school")
        .get(pk=classroom.pk, district_id=classroom.district_id)
    )
    if classroom.sis_id:
        raise ValidationError({"classroom": [SIS_MANAGED.format(name=classroom.name)]})
    if classroom.archived_at and not allow_archived:
        raise ValidationError({"classroom": [ARCHIVED.format(name=classroom.name)]})
    return classroom


def _classroom_name_errors(*, school: School | None, name: str, exclude_pk=None) -> list[str]:
    """Names are unique per school whatever their case, archived classrooms included."""
    if not name:
        return ["Enter the classroom's name, like 7A Maths"]
    if len(name) > CLASSROOM_NAME_MAX:
        return [f"Enter a name of {CLASSROOM_NAME_MAX} characters or fewer"]
    if school is None:
        return []
    same = Classroom.objects.filter(
        district_id=school.district_id, school=school, name__iexact=name
    ).exclude(pk=exclude_pk)
    existing = same.only("archived_at").first()
    if existing is None:
        return []
    if existing.archived_at:
        return [
            f"{school.name} already has an archived classroom called {name}: "
            "unarchive it or choose another name"
        ]
    return [f"{school.name} already has a classroom called {name}: choose another name"]


def classroom_create(
    *,
    district: District,
    school: School | None,
    name: str,
    year_group: YearGroup | None = None,
    actor,
) -> Classroom:
    name = " ".join(name.split())
    errors = {}
    if school is None or school.district_id != district.pk:
        errors["school"] = ["Select a school of this district"]
        school = None
    if name_errors := _classroom_name_errors(school=school, name=name):
        errors["name"] = name_errors
    if year_group is not None and year_group.district_id != district.pk:
        errors["year_group"] = ["Select a year group of this district"]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            classroom = Classroom.objects.create(
                district=district, school=school, name=name, year_group=year_group
            )
            audit.record(
                actor=actor,
                action="schools.classroom.created",
                target=classroom,
                after={
                    "name": name,
                    "school": school.name,
                    "year_group": year_group.name if year_group else None,
                },
            )
    except IntegrityError:
        # Two admins creating the same name at once: the constraint decides.
        raise ValidationError(
            {"name": [f"{school.name} already has a classroom called {name}: choose another name"]}
        ) from None
    return classroom


def classroom_rename(*, classroom: Classroom, name: str, actor) -> Classroom:
    name = " ".join(name.split())
    try:
        with transaction.atomic():
            classroom = _classroom_locked(classroom)
            if name == classroom.name:
                return classroom
            errors = _classroom_name_errors(
                school=classroom.school, name=name, exclude_pk=classroom.pk
            )
            if errors:
                raise ValidationError({"name": errors})
            before = classroom.name
            classroom.name = name
            classroom.save(update_fields=["name"])
            audit.record(
                actor=actor,
                action="schools.classroom.renamed",
                target=classroom,
                before={"name": before},
                after={"name": name},
            )
    except IntegrityError:
        raise ValidationError(
            {"name": [f"{classroom.school.name} already has a classroom called {name}"]}
        ) from None
    return classroom


def classroom_archive(*, classroom: Classroom, actor) -> Classroom:
    """Hides the classroom from its teachers' pages; its members are kept for unarchiving."""
    with transaction.atomic():
        classroom = _classroom_locked(classroom, allow_archived=True)
        if classroom.archived_at:
            return classroom
        classroom.archived_at = timezone.now()
        classroom.save(update_fields=["archived_at"])
        audit.record(
            actor=actor,
            action="schools.classroom.archived",
            target=classroom,
            before={"archived": False},
            after={"archived": True},
        )
    return classroom


def classroom_unarchive(*, classroom: Classroom, actor) -> Classroom:
    with transaction.atomic():
        classroom = _classroom_locked(classroom, allow_archived=True)
        if not classroom.archived_at:
            return classroom
        classroom.archived_at = None
        classroom.save(update_fields=["archived_at"])
        audit.record(
            actor=actor,
            action="schools.classroom.unarchived",
            target=classroom,
            before={"archived": True},
            after={"archived": False},
        )
    return classroom


def _member_errors(*, classroom: Classroom, user, roles, field: str, kind: str) -> dict:
    if user.district_id != classroom.district_id:
        return {field: [f"Select {kind} of this district"]}
    if user.role not in roles:
        return {
            field: [
                f"{user.full_name} is a {user.get_role_display().lower()}: select {kind} instead"
            ]
        }
    if user.status == Status.DEACTIVATED:
        return {field: [f"{user.full_name} is deactivated: reactivate the account first"]}
    return {}


def classroom_teacher_add(*, classroom: Classroom, teacher, actor) -> bool:
    """Adds a member of staff as a teacher; returns False when they already teach it."""
    errors = _member_errors(
        classroom=classroom, user=teacher, roles=STAFF_ROLES, field="teacher", kind="staff"
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        classroom = _classroom_locked(classroom)
        if classroom.teachers.filter(pk=teacher.pk).exists():
            return False
        classroom.teachers.add(teacher)
        audit.record(
            actor=actor,
            action="schools.classroom.teacher_added",
            target=classroom,
            after={"added": audit.target_label(teacher)},
        )
    return True


def classroom_teacher_remove(*, classroom: Classroom, teacher, actor) -> bool:
    with transaction.atomic():
        classroom = _classroom_locked(classroom)
        if not classroom.teachers.filter(pk=teacher.pk).exists():
            return False
        classroom.teachers.remove(teacher)
        audit.record(
            actor=actor,
            action="schools.classroom.teacher_removed",
            target=classroom,
            after={"removed": audit.target_label(teacher)},
        )
    return True


def classroom_student_add(*, classroom: Classroom, student, actor) -> bool:
    """Enrols a student; returns False when they are already in the classroom."""
    errors = _member_errors(
        classroom=classroom, user=student, roles={Role.STUDENT}, field="student", kind="a student"
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        classroom = _classroom_locked(classroom)
        _enrollment, created = Enrollment.objects.get_or_create(
            classroom=classroom, student=student, defaults={"district_id": classroom.district_id}
        )
        if not created:
            return False
        audit.record(
            actor=actor,
            action="schools.classroom.student_added",
            target=classroom,
            after={"added": audit.target_label(student)},
        )
    return True


def classroom_student_remove(*, classroom: Classroom, student, actor) -> bool:
    with transaction.atomic():
        classroom = _classroom_locked(classroom)
        deleted, _ = Enrollment.objects.filter(
            district_id=classroom.district_id, classroom=classroom, student=student
        ).delete()
        if not deleted:
            return False
        audit.record(
            actor=actor,
            action="schools.classroom.student_removed",
            target=classroom,
            after={"removed": audit.target_label(student)},
        )
    return True
