"""Every write to a bulk action: start one on a selection, run it, undo it.

Views and the bulk_action command call these; bulkactions.tasks runs them on a worker;
the per-person work is in bulkactions.operations.
"""

import uuid
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import User
from bulkactions.importing import bulk
from bulkactions.models import (
    BulkAction,
    BulkActionItem,
    BulkActionStatus,
    ItemOutcome,
)
from bulkactions.operations import OPERATIONS, USER_FIELDS
from bulkactions.operations.run import action_run
from schools.models import District

MAX_SELECTION = 100_000
ITEM_COLUMNS = [
    "district",
    "bulk_action",
    "user",
    "user_label",
    "outcome",
    "message",
    "before",
    "after",
    "secret",
]


class AlreadyStarted(Exception):
    """The same request (wizard draft) already started a bulk action."""

    def __init__(self, bulk_action):
        super().__init__(bulk_action.pk)
        self.bulk_action = bulk_action


def _operation(action: str, kind: str):
    operation = OPERATIONS.get(action)
    if operation is None or action == "undo" or kind not in operation.kinds:
        raise ValidationError({"action": ["Select an action from the list"]})
    return operation


def _check_reach(actor: User | None, action: str) -> None:
    """Roles are the district's to give: a school admin cannot change them."""
    from accounts.models import Role

    if action == "role" and actor is not None and actor.role != Role.DISTRICT_ADMIN:
        raise ValidationError({"action": ["Only district admins can change roles"]})


def bulk_action_preview(
    *, district: District, actor: User | None, kind: str, action: str, params: dict, users
):
    """What running the action would do: how many change, and how many are skipped, why.
    The same judgement as the run, on the accounts as they are now."""
    operation = _operation(action, kind)
    problems = operation.params_problems(district, params)
    if problems:
        raise ValidationError(problems)
    reasons: Counter = Counter()
    change = 0
    params = {**params, "actor": actor.pk if actor else None}
    for person in users.order_by().values(*USER_FIELDS).iterator(chunk_size=5000):
        reason = operation.judge(person, params, {})
        if reason:
            reasons[reason] += 1
        else:
            change += 1
    return {"change": change, "skipped": dict(reasons.most_common())}


def bulk_action_start(
    *,
    district: District,
    actor: User | None,
    kind: str,
    action: str,
    params: dict,
    users,
    selection: str = "",
    enqueue: bool = True,
    request_key: str = "",
) -> BulkAction:
    """Records the action and one item per selected person, then queues the run."""

    operation = _operation(action, kind)
    _check_reach(actor, action)
    problems = operation.params_problems(district, params)
    if problems:
        raise ValidationError(problems)
    if action == "reset_password" and params.get("password"):
        from bulkactions.secrets import secret_seal

        params = {**params, "password": secret_seal(params["password"])}
    people = list(
        users.filter(district=district)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "username")[: MAX_SELECTION + 1]
    )
    if not people:
        raise ValidationError("Select at least one person")
    if len(people) > MAX_SELECTION:
        raise ValidationError(f"Select at most {MAX_SELECTION:,} people for one action")
    try:
        return _start(
            district, actor, kind, action, params, people, selection, enqueue, request_key
        )
    except IntegrityError:
        earlier = BulkAction.objects.filter(district=district, request_key=request_key).first()
        if request_key and earlier is not None:
            raise AlreadyStarted(earlier) from None
        raise


def _start(district, actor, kind, action, params, people, selection, enqueue, request_key):
    operation = OPERATIONS[action]
    with transaction.atomic():
        bulk_action = BulkAction.objects.create(
            request_key=request_key,
            district=district,
            created_by=actor,
            created_by_label=audit.actor_label(actor),
            kind=kind,
            action=action,
            params=params,
            selection=selection[:300],
            total=len(people),
            run_token=uuid.uuid4().hex,
            heartbeat_at=timezone.now(),  # a queued action whose task is lost gets resumed
        )
        bulk.insert_values(
            BulkActionItem,
            ITEM_COLUMNS,
            (
                (
                    district.pk,
                    bulk_action.pk,
                    pk,
                    f"{first} {last} ({username})",
                    "",
                    "",
                    {},
                    {},
                    "",
                )
                for pk, first, last, username in people
            ),
        )
        audit.record(
            actor=actor,
            action="bulkactions.bulk_action.started",
            target=bulk_action,
            district=district,
            after={"action": operation.describe(params, district), "people": len(people)},
        )
        if enqueue:
            _enqueue(bulk_action)
    return bulk_action


def _enqueue(bulk_action: BulkAction) -> None:
    from bulkactions.tasks import run_bulk_action

    token = bulk_action.run_token
    transaction.on_commit(
        lambda: run_bulk_action.delay(bulk_action.district_id, bulk_action.pk, token)
    )


def bulk_action_run(bulk_action: BulkAction, run_token: str, *, on_progress=None) -> BulkAction:
    """Runs (or carries on) the action; a run whose token is no longer the action's stops."""
    claimed = BulkAction.objects.filter(
        pk=bulk_action.pk,
        run_token=run_token,
        status__in=(BulkActionStatus.QUEUED, BulkActionStatus.RUNNING),
    ).update(
        status=BulkActionStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not claimed:
        return bulk_action
    action_run(bulk_action, run_token, on_progress=on_progress)
    with transaction.atomic():
        finished = BulkAction.objects.select_for_update().get(pk=bulk_action.pk)
        if finished.run_token != run_token or finished.status != BulkActionStatus.RUNNING:
            return finished
        finished.status = BulkActionStatus.DONE
        finished.finished_at = timezone.now()
        finished.save(update_fields=["status", "finished_at"])
        audit.record(
            actor=finished.created_by,
            action="bulkactions.bulk_action.finished",
            target=finished,
            district=finished.district,
            after={
                "changed": finished.changed_count,
                "skipped": finished.skipped_count,
                "failed": finished.failed_count,
            },
        )
        from bulkactions.tasks import send_bulk_action_summary

        transaction.on_commit(
            lambda: send_bulk_action_summary.delay(finished.district_id, finished.pk)
        )
    return finished


def bulk_action_undo(*, bulk_action: BulkAction, actor: User | None, enqueue: bool = True):
    """A new bulk action that puts back each changed person's "before", where their
    fields still hold what the action set; the others are reported as skipped."""
    operation = OPERATIONS[bulk_action.action]
    if not operation.undoable:
        raise ValidationError(f"“{operation.label}” cannot be undone")
    with transaction.atomic():
        original = BulkAction.objects.select_for_update().get(
            pk=bulk_action.pk, district=bulk_action.district
        )
        if original.status != BulkActionStatus.DONE:
            raise ValidationError("Only a finished action can be undone")
        if BulkAction.objects.filter(undo_of=original).exists():
            raise ValidationError("This action has already been undone")
        changed = list(
            original.items.filter(outcome=ItemOutcome.CHANGED, user__isnull=False).values_list(
                "user_id", "user_label", "before", "after"
            )
        )
        undo = BulkAction.objects.create(
            district=original.district,
            created_by=actor,
            created_by_label=audit.actor_label(actor),
            kind=original.kind,
            action="undo",
            params={"of": original.pk, "action": original.action},
            selection=f"The {len(changed):,} people bulk action #{original.pk} changed",
            undo_of=original,
            total=len(changed),
            run_token=uuid.uuid4().hex,
            heartbeat_at=timezone.now(),
        )
        # The undo's "before" is what the original set (it must still be there), its
        # "after" is what the original found.
        bulk.insert_values(
            BulkActionItem,
            ITEM_COLUMNS,
            (
                (original.district_id, undo.pk, user_id, label, "", "", after, before, "")
                for user_id, label, before, after in changed
            ),
        )
        audit.record(
            actor=actor,
            action="bulkactions.bulk_action.undo_started",
            target=original,
            district=original.district,
            after={"undo": undo.pk, "people": len(changed)},
        )
        if enqueue:
            _enqueue(undo)
    return undo
