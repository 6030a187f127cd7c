"""Applying an operation to a bulk action's items, in batches, with bulk UPDATEs.

Each batch is one transaction: the accounts are locked, judged and changed (one UPDATE
per distinct new value), the items get their outcome, before and after, and one audit
event per changed account is inserted with COPY. Field changes run two batches at once on
their own connections (bulk.batches_write); emails and deletions one after another. Items
already judged are skipped, and a batch whose items another run wrote meanwhile is undone
whole, so a rerun carries on and never applies anything twice.
"""

import json
from collections import defaultdict

from django.db import transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts import audit
from accounts.models import ActivationToken, Status, User
from bulkactions.importing import bulk
from bulkactions.models import BulkAction, BulkActionItem, ItemOutcome
from bulkactions.operations import OPERATIONS, USER_FIELDS
from schools.models import Enrollment, YearGroup

BATCH = 5000
ITEM_RESULT = ["outcome", "message", "before", "after", "secret"]


class Superseded(Exception):
    """Another run of this bulk action took over; this one stops."""


def action_run(action: BulkAction, run_token: str, *, on_progress=None) -> None:
    operation = OPERATIONS[action.action]
    ordinals = dict(YearGroup.objects.filter(district=action.district).values_list("pk", "ordinal"))
    # Read once, unlocked: a batch locks its people, then writes its items' outcome only
    # where none was written meanwhile (_batch).
    pending = _Item.pending(action)
    batches = bulk.batches_split(pending, BATCH)

    def write(number, batch):
        with transaction.atomic():
            bulk.commit_lazily()
            counts = _batch(action, operation, batch, run_token, ordinals)
            updated = BulkAction.objects.filter(pk=action.pk, run_token=run_token).update(
                heartbeat_at=timezone.now(),
                changed_count=F("changed_count") + counts[ItemOutcome.CHANGED],
                skipped_count=F("skipped_count") + counts[ItemOutcome.SKIPPED],
                failed_count=F("failed_count") + counts[ItemOutcome.FAILED],
            )
            if not updated:
                raise Superseded(action.pk)
            transaction.on_commit(lambda: audit.people_changed(action.district_id))

    # Emails and deletions go through the account services one by one, in order.
    parallel = not operation.per_person
    bulk.batches_write(action.district, batches, write, on_progress=on_progress, parallel=parallel)


class _Item:
    """A bulk action item as the runner reads and rewrites it: plain attributes, as a
    model instance has them, without a model instance's cost (thousands per batch)."""

    FIELDS = tuple(f.attname for f in BulkActionItem._meta.concrete_fields)
    __slots__ = FIELDS

    def __init__(self, values, names=FIELDS):
        for name, value in zip(names, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self):
        return self.id

    @classmethod
    def pending(cls, action) -> list["_Item"]:
        """The action's items not done yet. Their before and after come as text and are
        parsed only when not empty: an undo's items hold what they expect, the others {}."""
        plain = [name for name in cls.FIELDS if name not in ("before", "after")]
        rows = (
            BulkActionItem.objects.filter(bulk_action=action, outcome="")
            .annotate(
                before_text=Cast("before", TextField()), after_text=Cast("after", TextField())
            )
            .order_by("pk")
            .values_list(*plain, "before_text", "after_text")
        )
        items = []
        for *values, before, after in rows:
            item = cls(values, names=plain)
            item.before = json.loads(before) if before != "{}" else {}
            item.after = json.loads(after) if after != "{}" else {}
            items.append(item)
        return items


def _batch(action, operation, items, run_token, ordinals) -> dict[str, int]:
    user_ids = [item.user_id for item in items if item.user_id]
    people = {
        person["id"]: person
        for person in User.objects.select_for_update()
        .filter(district=action.district, pk__any_of=user_ids)
        .order_by("pk")
        .values(*USER_FIELDS)
    }
    params = {**action.params, "actor": action.created_by_id}
    keys = set(operation.keys(params))
    for item in items:  # an undo is judged on what its items expect to find
        keys.update(name for name in item.before if name.startswith(MEMBERSHIPS))
    _load_memberships(people, keys)
    counts = dict.fromkeys(ItemOutcome.values, 0)
    groups: dict[tuple, list[int]] = defaultdict(list)
    changed: list[BulkActionItem] = []
    for item in items:
        person = people.get(item.user_id)
        if person is None:
            item.outcome, item.message = ItemOutcome.FAILED, "The account no longer exists"
        elif reason := operation.judge(person, params, item.before):
            item.outcome, item.message = ItemOutcome.SKIPPED, reason
        else:
            new = operation.new_values(person, params, item.after)
            item.before = {name: person.get(name) for name in new}
            item.after = new
            item.outcome, item.message = ItemOutcome.CHANGED, ""
            groups[tuple(sorted(new.items()))].append(person["id"])
            changed.append(item)
        counts[item.outcome] += 1
    now = timezone.now()
    if operation.per_person:
        _act_per_person(action, operation, changed, counts)
    else:
        for values, group in groups.items():
            _write(action, dict(values), group, ordinals, now)
    # Only items still pending: had another run of this action (a task delivered twice)
    # done some first, its accounts were locked above until it committed; undo the batch.
    written = bulk.rows_update(BulkActionItem, ITEM_RESULT, items, outcome="")
    if written != len(items):
        raise Superseded(action.pk)
    if operation.audit_action:
        _audit(action, operation, changed, now)
    return counts


MEMBERSHIPS = ("classroom:", "school:", "teaches:")


def _members(key: str, user_ids):
    kind, pk = key.split(":", 1)
    if kind == "classroom":
        rows = Enrollment.objects.filter(classroom_id=int(pk), student_id__any_of=user_ids)
        return rows, "student_id"
    if kind == "teaches":
        from schools.models import Classroom

        rows = Classroom.teachers.through.objects.filter(
            classroom_id=int(pk), user_id__any_of=user_ids
        )
        return rows, "user_id"
    rows = User.schools.through.objects.filter(school_id=int(pk), user_id__any_of=user_ids)
    return rows, "user_id"


def _load_memberships(people: dict, keys: set[str]) -> None:
    """Adds "classroom:<id>" / "school:<id>": True/False to each person judged on them."""
    for key in keys:
        rows, column = _members(key, list(people))
        members = set(rows.values_list(column, flat=True))
        for person_id, person in people.items():
            person[key] = person_id in members


def _write(action, values: dict, ids: list[int], ordinals: dict, now) -> None:
    """One group of people who all get the same new values."""
    fields = {k: v for k, v in values.items() if not k.startswith(MEMBERSHIPS)}
    schools_changed = False
    for key, member in values.items():
        if not key.startswith(MEMBERSHIPS):
            continue
        kind, pk = key.split(":", 1)
        if not member:
            _members(key, ids)[0].delete()
        elif kind == "classroom":
            bulk.insert_values(
                Enrollment,
                ["district", "classroom", "student", "created_at"],
                ((action.district_id, int(pk), user_id, now) for user_id in ids),
            )
        elif kind == "teaches":
            from schools.models import Classroom

            bulk.insert_values(
                Classroom.teachers.through,
                ["classroom", "user"],
                ((int(pk), user_id) for user_id in ids),
            )
        else:
            bulk.insert_values(
                User.schools.through, ["user", "school"], ((user_id, int(pk)) for user_id in ids)
            )
        schools_changed = schools_changed or kind == "school"
    if fields:
        User.objects.filter(pk__any_of=ids).update(
            **_with_side_effects(fields, ordinals, now), updated_at=now
        )
        if fields.get("status") == Status.DEACTIVATED:
            ActivationToken.objects.filter(
                user_id__any_of=ids, used_at__isnull=True, voided_at__isnull=True
            ).update(voided_at=now)
    else:
        User.objects.filter(pk__any_of=ids).update(updated_at=now)
    if schools_changed:
        _refresh_school_names(ids)


def _refresh_school_names(ids: list[int]) -> None:
    """The derived User.school_names the lists sort and show by, after school changes."""
    from accounts.models import school_names_for
    from schools.models import School

    names = defaultdict(list)
    for user_id, name in User.schools.through.objects.filter(user_id__any_of=ids).values_list(
        "user_id", "school__name"
    ):
        names[user_id].append(School(name=name))
    by_value = defaultdict(list)
    for user_id in ids:
        by_value[school_names_for(names[user_id])].append(user_id)
    for value, group in by_value.items():
        User.objects.filter(pk__any_of=group).update(school_names=value)


def _act_per_person(action, operation, items, counts) -> None:
    """Emails and deletions, through the account services (which audit them); a refusal
    there becomes the person's failure reason."""
    from django.core.exceptions import ValidationError

    users = {
        user.pk: user
        for user in User.objects.select_related("district").filter(
            pk__in=[item.user_id for item in items]
        )
    }
    from bulkactions.secrets import secret_seal

    params = {k: v for k, v in action.params.items()}
    for item in items:
        try:
            with transaction.atomic():
                password = operation.act(users[item.user_id], action.created_by, params)
            if password:
                item.secret = secret_seal(password)
        except ValidationError as error:
            item.outcome, item.message = ItemOutcome.FAILED, error.messages[0][:300]
            counts[ItemOutcome.CHANGED] -= 1
            counts[ItemOutcome.FAILED] += 1


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
    bulk.audit_users(
        district_id=action.district_id,
        actor=action.created_by,
        rows=(
            (
                _audit_code(operation.audit_action, item),
                item.user_id,
                item.user_label,
                item.before,
                {**item.after, "bulk_action": action.pk},
            )
            for item in items
        ),
        now=now,
    )


def _audit_code(code: str, item) -> str:
    """Undo and reactivation audit what actually happened to the person."""
    for key, member in item.after.items():
        if key.startswith("classroom:"):
            return "schools.enrollment.added" if member else "schools.enrollment.removed"
        if key.startswith("teaches:"):
            return (
                "schools.classroom.teacher_added" if member else "schools.classroom.teacher_removed"
            )
        if key.startswith("school:"):
            return "accounts.user.updated"
    status = item.after.get("status")
    if status == Status.DEACTIVATED:
        return "accounts.user.deactivated"
    if status and item.before.get("status") == Status.DEACTIVATED:
        return "accounts.user.reactivated"
    return code
