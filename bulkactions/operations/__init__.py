"""What a bulk action can do to an account: one Operation per action.

An operation judges one person (`skip_reason`) and says what their fields become
(`new_values`); `bulkactions.operations.run` applies that to thousands of people with a
few bulk UPDATEs per batch, records before and after per person, and audits each change.
Undo is an operation too: it puts back the "before" of each person whose fields still
hold the "after".
"""

from dataclasses import dataclass
from typing import ClassVar

from django.contrib.auth.hashers import is_password_usable

from accounts.models import Role, Status
from bulkactions.models import ImportKind
from schools.models import YearGroup

# What an operation may read of a person.
USER_FIELDS = (
    "id",
    "role",
    "status",
    "year_group_id",
    "password",
    "first_name",
    "last_name",
    "email",
    "password_mode",
    "managed_by_sis",
)
# Rostered accounts' fields belong to the SIS (issue 7): a bulk change would be undone by
# the next sync, so they are skipped, with this reason.
SIS_MANAGED = "Managed by your SIS: change it there"


@dataclass(frozen=True)
class Operation:
    code: str
    label: str
    kinds: tuple[str, ...]
    audit_action: str
    undoable: bool = True
    # Emails and deletion go through the account services one person at a time (they
    # audit and schedule emails themselves); field changes are bulk UPDATEs.
    per_person: bool = False
    # Changes what the SIS owns of a rostered account (not emails and passwords).
    sis_owned: ClassVar[bool] = True

    def judge(self, person: dict, params: dict, item_before: dict) -> str | None:
        """Why this person is skipped, or None: the SIS rule first, then the action's."""
        if self.sis_owned and person.get("managed_by_sis"):
            return SIS_MANAGED
        return self.skip_reason(person, params, item_before)

    def keys(self, params: dict) -> list[str]:
        """Membership a person is judged on, beyond their own fields ("classroom:12")."""
        return []

    def act(self, user, actor, params: dict) -> str:
        """Does it for one person; returns a password to hand over, or ""."""
        raise NotImplementedError

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


class ChangeRole(Operation):
    def params_problems(self, district, params):
        if params.get("role") not in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN):
            return {"role": ["Select a role"]}
        return {}

    def skip_reason(self, person, params, item_before):
        if person["role"] == params["role"]:
            return "Already has this role"
        if params.get("actor") == person["id"]:
            return "You cannot change your own role"
        return None

    def new_values(self, person, params, item_after):
        return {"role": params["role"]}

    def describe(self, params, district=None):
        role = params.get("role")
        return f"Change role to {Role(role).label}" if role in Role.values else "Change role"


class ClassroomMembership(Operation):
    """Adds students to one class, or takes them out of it. Rostered students may join
    a class made here (a club, say); rostered classes themselves are refused."""

    adding: bool = True
    sis_owned: ClassVar[bool] = False

    def _classroom(self, district, params):
        from schools.models import Classroom

        value = str(params.get("classroom") or "")
        if district is None or not value.isdigit():
            return None
        return Classroom.objects.filter(district=district, pk=int(value)).first()

    def params_problems(self, district, params):
        room = self._classroom(district, params)
        if room is None:
            return {"classroom": ["Select a class of this district"]}
        if room.archived_at is not None:
            return {"classroom": ["This class is archived: unarchive it first"]}
        if room.sis_id:
            return {"classroom": ["This class is managed by your SIS: change it there"]}
        return {}

    def keys(self, params):
        return [f"classroom:{int(params['classroom'])}"]

    def skip_reason(self, person, params, item_before):
        if person["role"] != Role.STUDENT:
            return "Not a student"
        is_member = person.get(self.keys(params)[0])
        if self.adding and is_member:
            return "Already in this class"
        if not self.adding and not is_member:
            return "Not in this class"
        return None

    def new_values(self, person, params, item_after):
        return {self.keys(params)[0]: self.adding}

    def describe(self, params, district=None):
        room = self._classroom(district, params)
        name = f" {room.name}" if room else ""
        return f"{'Add to' if self.adding else 'Remove from'} class{name}"


class AddToClassroom(ClassroomMembership):
    adding = True


class AddTeacherToClassroom(ClassroomMembership):
    """Staff join a class as its teachers."""

    def keys(self, params):
        return [f"teaches:{int(params['classroom'])}"]

    def skip_reason(self, person, params, item_before):
        if person["role"] not in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN):
            return "Not staff"
        return "Already teaches this class" if person.get(self.keys(params)[0]) else None

    def describe(self, params, district=None):
        room = self._classroom(district, params)
        return f"Add as teachers of {room.name}" if room else "Add as teachers of a class"


class RemoveFromClassroom(ClassroomMembership):
    adding = False


class AddToSchool(Operation):
    def params_problems(self, district, params):
        from schools.models import School

        value = str(params.get("school") or "")
        if (
            not value.isdigit()
            or not School.objects.filter(district=district, pk=int(value)).exists()
        ):
            return {"school": ["Select a school of this district"]}
        return {}

    def keys(self, params):
        return [f"school:{int(params['school'])}"]

    def skip_reason(self, person, params, item_before):
        if person["role"] not in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN):
            return "Not staff"
        return "Already at this school" if person.get(self.keys(params)[0]) else None

    def new_values(self, person, params, item_after):
        return {self.keys(params)[0]: True}

    def describe(self, params, district=None):
        from schools.models import School

        school = (
            School.objects.filter(district=district, pk=int(params["school"])).first()
            if district and str(params.get("school", "")).isdigit()
            else None
        )
        return f"Add to {school.name}" if school else "Add to a school"


class SendPasswordReset(Operation):
    sis_owned = False

    def skip_reason(self, person, params, item_before):
        if not person["email"]:
            return "No email address"
        if person["status"] == Status.DEACTIVATED:
            return "Deactivated"
        return None

    def new_values(self, person, params, item_after):
        return {"email_sent": "password reset"}

    def act(self, user, actor, params):
        from accounts.services import password_reset_send

        password_reset_send(user=user, actor=actor)
        return ""


class ResendInvitation(Operation):
    sis_owned = False

    def skip_reason(self, person, params, item_before):
        if person["status"] != Status.INVITED:
            return "Already activated or deactivated"
        if not person["email"]:
            return "No email address"
        return None

    def new_values(self, person, params, item_after):
        return {"email_sent": "invitation"}

    def act(self, user, actor, params):
        from accounts.services import activation_send

        activation_send(user=user, actor=actor)
        return ""


class Delete(Operation):
    def skip_reason(self, person, params, item_before):
        if person["status"] != Status.DEACTIVATED:
            return "Not deactivated: deactivate first"
        return None

    def new_values(self, person, params, item_after):
        return {"deleted": True}

    def act(self, user, actor, params):
        from accounts.services import user_delete

        user_delete(user=user, actor=actor)
        return ""


class Rollover(Operation):
    """Each student moves to their year group's next one; those in the last year leave:
    deactivated, or taken out of any year group (params["leavers"])."""

    def skip_reason(self, person, params, item_before):
        if person["role"] != Role.STUDENT:
            return "Not a student"
        if person["year_group_id"] is None:
            return "No year group"
        if person["status"] == Status.DEACTIVATED:
            return "Deactivated"
        return None

    def new_values(self, person, params, item_after):
        following = params["next"].get(str(person["year_group_id"]))
        if following:
            return {"year_group_id": following}
        if params.get("leavers") == "unassign":
            return {"year_group_id": None}
        return {"status": Status.DEACTIVATED}

    def describe(self, params, district=None):
        return f"Annual rollover {params.get('academic_year')}/{(params.get('academic_year') or 0) % 100 + 1:02d}"


class ResetPassword(Operation):
    sis_owned = False

    """A new password for teacher-set accounts: one typed for all, or one generated each;
    they hand out the slips from the action's credentials page."""

    def params_problems(self, district, params):
        if params.get("mode") not in ("generate", "set"):
            return {"mode": ["Choose to generate passwords or to set one"]}
        if params["mode"] == "set":
            from django.core.exceptions import ValidationError

            from accounts.models import User
            from accounts.services import password_validate

            try:
                password_validate(user=User(district=district), password=params.get("password", ""))
            except ValidationError as error:
                return {"password": error.messages}
        return {}

    def skip_reason(self, person, params, item_before):
        if person["status"] == Status.DEACTIVATED:
            return "Deactivated"
        if person["password_mode"] != "staff":
            return "Sets their own password: send a reset email instead"
        return None

    def new_values(self, person, params, item_after):
        return {"password_reset": True}

    def act(self, user, actor, params):
        from accounts.services import password_generate, password_set_by_admin
        from bulkactions.secrets import secret_open

        # A typed password is kept sealed in the action's parameters (never in clear).
        password = secret_open(params.get("password", "")) or password_generate(
            district=user.district
        )
        password_set_by_admin(user=user, password=password, actor=actor)
        return password

    def describe(self, params, district=None):
        return "Set new passwords" if params.get("mode") == "set" else "Generate new passwords"


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
        ChangeRole("role", "Change role", STAFF, "accounts.user.updated"),
        AddToSchool("school_add", "Add to a school", STAFF, "accounts.user.updated"),
        AddTeacherToClassroom(
            "teacher_classroom_add",
            "Add to a class (as a teacher)",
            STAFF,
            "schools.classroom.teacher_added",
        ),
        AddToClassroom("classroom_add", "Add to a class", STUDENTS, "schools.enrollment.added"),
        RemoveFromClassroom(
            "classroom_remove", "Remove from a class", STUDENTS, "schools.enrollment.removed"
        ),
        SendPasswordReset(
            "reset_email", "Send a password reset email", BOTH, "", undoable=False, per_person=True
        ),
        ResendInvitation(
            "resend_invitation",
            "Resend the invitation",
            BOTH,
            "",
            undoable=False,
            per_person=True,
        ),
        Deactivate("deactivate", "Deactivate", BOTH, "accounts.user.deactivated"),
        Reactivate("reactivate", "Reactivate", BOTH, "accounts.user.reactivated"),
        Delete("delete", "Delete", BOTH, "", undoable=False, per_person=True),
        ResetPassword(
            "reset_password",
            "Set or generate new passwords",
            STUDENTS,
            "",
            undoable=False,
            per_person=True,
        ),
        Rollover("rollover", "Annual rollover", STUDENTS, "accounts.user.updated"),
        Undo("undo", "Undo", BOTH, "accounts.user.updated", undoable=False),
    )
}
