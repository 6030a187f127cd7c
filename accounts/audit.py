"""The audit trail: every change to a person's account is recorded here, by services only."""

from accounts.models import AuditEvent, User


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
