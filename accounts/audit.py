"""The audit trail: every change to a person's account is recorded here, by services only."""

from django.core.cache import cache
from django.db import transaction

from accounts.models import AuditEvent, User


def people_version(district_id: int) -> int:
    """A number that changes whenever anything in the district's accounts changes."""
    return cache.get_or_set(f"people-version:{district_id}", 1, timeout=None)


def people_changed(district_id: int) -> None:
    try:
        cache.incr(f"people-version:{district_id}")
    except ValueError:
        cache.set(f"people-version:{district_id}", 2, timeout=None)


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "System"
    return f"{actor.full_name} ({actor.username})"


def target_label(target) -> str:
    if isinstance(target, User):
        return f"{target.full_name} ({target.username})"
    return str(target)


def record(*, actor, action: str, target, district=None, before=None, after=None) -> AuditEvent:
    district = district or getattr(target, "district", None) or target
    # Every change is audited, so this is also where cached list counts go stale.
    transaction.on_commit(lambda: people_changed(district.pk))
    return AuditEvent.objects.create(
        district=district,
        actor=actor,
        actor_label=actor_label(actor),
        action=action,
        target_type=target._meta.model_name,
        target_id=target.pk,
        target_label=target_label(target),
        before=before or {},
        after=after or {},
    )
