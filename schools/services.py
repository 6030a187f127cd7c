"""Writes to districts: creation (platform) and the settings their admins change."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django_scopes import scopes_disabled

from accounts import audit
from accounts.services.users import username_pattern_errors
from schools.branding import validate_brand_colour, validate_logo
from schools.models import RESERVED_SLUGS, District, School, YearGroup, slug_validator

SETTINGS_FIELDS = [
    "brand_colour",
    "contact_line",
    "terminology",
    "username_pattern",
    "password_min_length",
    "students_exempt_from_password_change",
    "activation_days",
    "reset_hours",
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
