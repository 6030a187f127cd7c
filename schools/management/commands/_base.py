"""What Rollbook's commands share: finding the district they act for."""

from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from schools.models import District


def district_by_slug(slug: str) -> District:
    with scopes_disabled():
        district = District.objects.filter(slug=(slug or "").strip().lower()).first()
        if district is None:
            known = ", ".join(District.objects.values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(
                f"No district has the slug '{slug}'. Known districts: {known}. "
                "Create one with: manage.py create_district"
            )
    return district


def validation_message(error) -> str:
    """A service's ValidationError as lines a person at a terminal can act on."""
    if hasattr(error, "error_dict"):
        return "\n".join(
            f"--{field.replace('_', '-')}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        )
    return "\n".join(error.messages)
