"""What a bulk action can do to an account: one Operation per action.

An operation judges one person (`skip_reason`) and says what their fields become
(`new_values`); `bulkactions.operations.run` applies that to thousands of people with a
few bulk UPDATEs per batch, records before and after per person, and audits each change.
Undo is an operation too: it puts back the "before" of each person whose fields still
hold the "after".
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import is_password_usable

from accounts.models import Role, Status
from bulkactions.models import ImportKind
from schools.models import YearGroup

# What an operation may read of a person.
USER_FIELDS = ("id", "role", "status", "year_group_id", "password", "first_name", "last_name")


@dataclass(frozen=True)
class Operation:
    code: str
    label: str
    kinds: tuple[str, ...]
    audit_action: str
    undoable: bool = True

    def params_problems(self, district, params: dict) -> dict[str, list[str]]:
        return {}

    def skip_reason(self, person: dict, params: dict, item_before: dict) -> str | None:
        return None

    def new_values(self, person: dict, params: dict, item_after: dict) -> dict:
        raise NotImplementedError

    def describe(self, params: dict, district=None) -> str:
        return self.label


class ChangeYearGroup(Operation):
    def params_problems(self, district, params):
        year = _year_group(district, params.get("year_group"))
        return {} if year else {"year_group": ["Select a year group of this district"]}

    def skip_reason(self, person, params, item_before):
        if person["role"] != Role.STUDENT:
            return "Not a student"
        if person["year_group_id"] == int(params["year_group"]):
            return "Already in this year group"
        return None

    def new_values(self, person, params, item_after):
        return {"year_group_id": int(params["year_group"])}

    def describe(self, params, district=None):
        year = _year_group(district, params.get("year_group")) if district else None
        return f"Change year group to {year.name}" if year else "Change year group"


class Deactivate(Operation):
    def skip_reason(self, person, params, item_before):
        if person["status"] == Status.DEACTIVATED:
            return "Already deactivated"
        if params.get("actor") == person["id"]:
            return "You cannot deactivate your own account"
        return None

    def new_values(self, person, params, item_after):
        return {"status": Status.DEACTIVATED}


class Reactivate(Operation):
    def skip_reason(self, person, params, item_before):
        return None if person["status"] == Status.DEACTIVATED else "Not deactivated"

    def new_values(self, person, params, item_after):
        usable = is_password_usable(person["password"])
        return {"status": Status.ACTIVE if usable else Status.INVITED}


class Undo(Operation):
    """Puts back each person's "before", unless their fields changed since the action."""

    def skip_reason(self, person, params, item_before):
        for name, value in item_before.items():
            if person.get(name) != value:
                return "Changed since the action: left as it is"
        return None

    def new_values(self, person, params, item_after):
        return dict(item_after)

    def describe(self, params, district=None):
        return f"Undo bulk action #{params.get('of')}"


def _year_group(district, value):
    if district is None or not str(value or "").isdigit():
        return None
    return YearGroup.objects.filter(district=district, pk=int(value)).first()


STUDENTS, STAFF = (ImportKind.STUDENTS,), (ImportKind.STAFF,)
BOTH = (ImportKind.STUDENTS, ImportKind.STAFF)
OPERATIONS = {
    op.code: op
    for op in (
        ChangeYearGroup("year_group", "Change year group", STUDENTS, "accounts.user.updated"),
        Deactivate("deactivate", "Deactivate", BOTH, "accounts.user.deactivated"),
        Reactivate("reactivate", "Reactivate", BOTH, "accounts.user.reactivated"),
        Undo("undo", "Undo", BOTH, "accounts.user.updated", undoable=False),
    )
}
