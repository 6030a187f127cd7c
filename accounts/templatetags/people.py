"""Small template helpers for the people pages: readable audit actions, status tags."""

from django import template
from django.utils import timezone

register = template.Library()

ACTIONS = {
    "accounts.user.created": "Account created",
    "accounts.user.updated": "Details changed",
    "accounts.user.activated": "Account activated",
    "accounts.user.deactivated": "Deactivated",
    "accounts.user.reactivated": "Reactivated",
    "accounts.user.deleted": "Deleted",
    "accounts.user.case_manager_changed": "Case manager changed",
    "accounts.activation.sent": "Invitation sent",
    "accounts.invitation.reminded": "Reminder sent",
    "accounts.activate.requested": "New activation link requested",
    "accounts.reset.requested": "Password reset requested",
    "accounts.reset.sent_by_admin": "Password reset email sent by an admin",
    "accounts.activate.sent_by_admin": "Activation email sent by an admin",
    "accounts.password.reset": "Password reset",
    "accounts.password.changed": "Password changed",
    "accounts.password.set_by_admin": "Password set by staff",
}


@register.filter
def audit_label(action: str) -> str:
    return ACTIONS.get(action, action)


def _readable(value) -> str:
    if value in (None, "", []):
        return "none"
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.filter
def audit_changes(event) -> str:
    """'email: a@x.org → b@x.org; status: …' for the fields an event changed. Creation
    lists only what was filled in."""
    parts = []
    before = event.before or {}
    for field, new in (event.after or {}).items():
        name = field.replace("_", " ")
        if field in before:
            parts.append(f"{name}: {_readable(before[field])} → {_readable(new)}")
        elif new not in (None, "", [], False):
            parts.append(f"{name}: {_readable(new)}")
    return "; ".join(parts)


@register.simple_tag
def invitation_state(person) -> str:
    """Sent when, expired, activated: what an admin needs to chase an invitation."""
    if person.status == "active":
        return "Activated" if person.password_mode == "self" else "Password set by staff"
    if person.status == "deactivated":
        return "Deactivated"
    sent = getattr(person, "invite_sent_at", None)
    expires = getattr(person, "invite_expires_at", None)
    if sent is None:
        return "Not sent yet" if person.email else "No email address"
    local = timezone.localtime(sent)
    if expires and expires <= timezone.now():
        return f"Expired (sent {local:%-d %b})"
    return f"Sent {local:%-d %b %H:%M}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")


STATUS_LABELS = {"invited": "Invited", "active": "Active", "deactivated": "Deactivated"}


@register.simple_tag
def status_tag(status: str):
    """The status tag of components/status_tag.html, without an include per table row."""
    from django.utils.html import format_html

    return format_html(
        '<strong class="tag tag-{}">{}</strong>', status, STATUS_LABELS.get(status, status)
    )
