"""Applying an operation to a bulk action's items, in batches, with bulk UPDATEs.

Each batch is one transaction: the accounts are locked, judged and changed (one UPDATE
per distinct new value), the items get their outcome, before and after, and one audit
event per changed account is inserted with COPY. Items already judged are skipped, so a
rerun carries on and never applies anything twice.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from accounts.models import ActivationToken, AuditEvent, Status, User
from bulkactions.importing import bulk
from bulkactions.models import BulkAction, BulkActionItem, ItemOutcome
from bulkactions.operations import OPERATIONS, USER_FIELDS
from schools.models import YearGroup

BATCH = 2000


class Superseded(Exception):
    """Another run of this bulk action took over; this one stops."""


def action_run(action: BulkAction, run_token: str, *, on_progress=None) -> None:
    operation = OPERATIONS[action.action]
    ordinals = dict(YearGroup.objects.filter(district=action.district).values_list("pk", "ordinal"))
    after_id = 0
    while True:
        ids = list(
            BulkActionItem.objects.filter(bulk_action=action, outcome="", pk__gt=after_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        after_id = ids[-1]
        with transaction.atomic():
            bulk.commit_lazily()
            counts = _batch(action, operation, ids, run_token, ordinals)
            updated = BulkAction.objects.filter(pk=action.pk, run_token=run_token).update(
                heartbeat_at=timezone.now(),
                changed_count=F("changed_count") + counts[ItemOutcome.CHANGED],
                skipped_count=F("skipped_count") + counts[ItemOutcome.SKIPPED],
                failed_count=F("failed_count") + counts[ItemOutcome.FAILED],
            )
            if not updated:
                raise Superseded(action.pk)
            transaction.on_commit(lambda: audit.people_changed(action.district_id))
        if on_progress:
            on_progress()


def _batch(action, operation, ids, run_token, ordinals) -> dict[str, int]:
    items = list(
        BulkActionItem.objects.select_for_update().filter(pk__in=ids, outcome="").order_by("pk")
    )
    user_ids = [item.user_id for item in items if item.user_id]
    people = {
        person["id"]: person
        for person in User.objects.select_for_update()
        .filter(district=action.district, pk__in=user_ids)
        .order_by("pk")
        .values(*USER_FIELDS)
    }
    params = {**action.params, "actor": action.created_by_id}
    counts = dict.fromkeys(ItemOutcome.values, 0)
    groups: dict[tuple, list[int]] = defaultdict(list)
    changed: list[BulkActionItem] = []
    for item in items:
        person = people.get(item.user_id)
        if person is None:
            item.outcome, item.message = ItemOutcome.FAILED, "The account no longer exists"
        elif reason := operation.skip_reason(person, params, item.before):
            item.outcome, item.message = ItemOutcome.SKIPPED, reason
        else:
            new = operation.new_values(person, params, item.after)
            item.before = {name: person[name] for name in new}
            item.after = new
            item.outcome, item.message = ItemOutcome.CHANGED, ""
            groups[tuple(sorted(new.items()))].append(person["id"])
            changed.append(item)
        counts[item.outcome] += 1
    now = timezone.now()
    for values, group in groups.items():
        User.objects.filter(pk__in=group).update(
            **_with_side_effects(dict(values), ordinals, now), updated_at=now
        )
        if dict(values).get("status") == Status.DEACTIVATED:
            ActivationToken.objects.filter(
                user_id__in=group, used_at__isnull=True, voided_at__isnull=True
            ).update(voided_at=now)
    BulkActionItem.objects.bulk_update(items, ["outcome", "message", "before", "after"])
    _audit(action, operation, changed, now)
    return counts


def _with_side_effects(values: dict, ordinals: dict, now) -> dict:
    """The columns that follow from the changed ones: derived columns and status dates;
    deactivation also ends every session (the session hash includes its version)."""
    if "year_group_id" in values:
        values["year_ordinal"] = ordinals.get(values["year_group_id"])
    if values.get("status") == Status.DEACTIVATED:
        values["deactivated_at"] = now
        values["session_version"] = F("session_version") + 1
    elif "status" in values:
        values["deactivated_at"] = None
    return values


def _audit(action, operation, items, now) -> None:
    actor_label = audit.actor_label(action.created_by)
    code = operation.audit_action
    bulk.insert_values(
        AuditEvent,
        [
            "district",
            "actor",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
            "created_at",
        ],
        (
            (
                action.district_id,
                action.created_by_id,
                actor_label,
                _audit_code(code, item),
                "user",
                item.user_id,
                item.user_label,
                item.before,
                {**item.after, "bulk_action": action.pk},
                now,
            )
            for item in items
        ),
    )


def _audit_code(code: str, item) -> str:
    """Undo and reactivation audit what actually happened to the person's status."""
    status = item.after.get("status")
    if status == Status.DEACTIVATED:
        return "accounts.user.deactivated"
    if status and item.before.get("status") == Status.DEACTIVATED:
        return "accounts.user.reactivated"
    return code
