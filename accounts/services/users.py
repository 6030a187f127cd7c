"""Creating accounts and switching them on and off."""

import re
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts import audit
from accounts.models import STAFF_ROLES, PasswordMode, Role, Source, Status, User
from accounts.tokens import tokens_void
from schools.models import District, School, YearGroup

PATTERN_FIELDS = {"first", "last", "f", "l"}
USERNAME_RE = re.compile(r"[A-Za-z0-9._@+-]{2,150}")
USERNAME_MESSAGE = "Enter a username of 2 to 150 letters, digits and . _ @ + - (no spaces)"


@lru_cache(maxsize=8192)  # an import of 100,000 repeats its common names thousands of times
def _slugify_name(value: str) -> str:
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_value.lower())


def username_pattern_errors(pattern: str) -> list[str]:
    """What is wrong with a district's username pattern, in words an admin can act on."""
    fields = set(re.findall(r"\{([^{}]*)\}", pattern))
    unknown = fields - PATTERN_FIELDS
    if unknown:
        names = ", ".join("{" + name + "}" for name in sorted(unknown))
        return [f"Remove {names}: a pattern can use only {{first}}, {{last}}, {{f}} and {{l}}"]
    if not fields & {"first", "last"}:
        return ["Include {first} or {last} in the pattern, like {first}.{last}"]
    literal = re.sub(r"\{[^{}]*\}", "", pattern)
    if not re.fullmatch(r"[a-z0-9._-]*", literal):
        return ["Use only lowercase letters, digits, dots, hyphens and underscores between fields"]
    return []


def username_base(*, pattern: str, first_name: str, last_name: str) -> str:
    """The district's pattern filled in with a person's names, before any number is added."""
    first, last = _slugify_name(first_name), _slugify_name(last_name)
    base = pattern.format(first=first, last=last, f=first[:1], l=last[:1]).strip("._-")
    return (base or "user")[:140]


def username_free(base: str, taken: set[str]) -> str:
    """The base, or the base with 2, 3... added, whichever is not in `taken` (lowercase)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def username_generate(
    *, district: District, first_name: str, last_name: str, taken: set[str] | None = None
) -> str:
    """The district's pattern filled in, with 2, 3... added until it is free."""
    base = username_base(
        pattern=district.username_pattern, first_name=first_name, last_name=last_name
    )
    existing = {
        name.lower()
        for name in User.objects.filter(district=district, username__istartswith=base).values_list(
            "username", flat=True
        )
    } | {name.lower() for name in (taken or ())}
    return username_free(base, existing)


def _validate_new_user(
    *,
    district: District,
    role: str,
    first_name: str,
    last_name: str,
    email: str,
    username: str,
    password: str | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not first_name:
        errors["first_name"] = ["Enter a first name"]
    if not last_name:
        errors["last_name"] = ["Enter a last name"]
    if role not in Role.values:
        errors["role"] = ["Select a role"]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter an email address in the correct format, like name@school.org"]
        else:
            if User.objects.filter(district=district, email__iexact=email).exists():
                errors["email"] = [
                    "Another account in this district already uses this email address"
                ]
    elif not (role == Role.STUDENT and password):
        errors["email"] = ["Enter an email address: the invitation to sign in is sent to it"]
    if username:
        if not USERNAME_RE.fullmatch(username):
            errors["username"] = [USERNAME_MESSAGE]
        elif User.objects.filter(district=district, username__iexact=username).exists():
            errors["username"] = ["This username is taken: choose another or leave it empty"]
    return errors


def _reach_errors(*, actor: User | None, role: str, schools) -> dict[str, list[str]]:
    """A school admin creates and edits only teachers and students of their own schools."""
    if actor is None or actor.role == Role.DISTRICT_ADMIN:
        return {}
    if actor.role != Role.SCHOOL_ADMIN:
        return {"role": ["Only admins can manage accounts"]}
    errors = {}
    if role not in (Role.TEACHER, Role.STUDENT):
        errors["role"] = ["School admins can add and change teachers and students only"]
    own = set(actor.schools.values_list("pk", flat=True))
    if not schools or any(school.pk not in own for school in schools):
        errors["schools"] = ["Select one or more of your own schools"]
    return errors


def user_create(
    *,
    district: District,
    actor: User | None,
    role: str,
    first_name: str,
    last_name: str,
    email: str = "",
    username: str = "",
    schools: list[School] | tuple = (),
    year_group: YearGroup | None = None,
    password: str | None = None,
    send_invitation: bool = True,
    source: str = Source.MANUAL,
    sis_id: str = "",
    must_change_password: bool | None = None,
) -> User:
    """Creates one account. With a password (set by someone else) it is active and must be
    changed at first sign-in; without one it is invited and gets an activation email."""
    from accounts.services.credentials import activation_send, password_validate

    first_name, last_name = first_name.strip(), last_name.strip()
    email, username = email.strip(), username.strip()
    errors = _validate_new_user(
        district=district,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        username=username,
        password=password,
    )
    foreign = [s for s in schools if s.district_id != district.pk]
    if foreign or (year_group and year_group.district_id != district.pk):
        errors["schools"] = ["Select schools and year groups of this district"]
    errors.update(_reach_errors(actor=actor, role=role, schools=schools))
    if password and not errors:
        probe = User(
            district=district,
            first_name=first_name,
            last_name=last_name,
            email=email,
            username=username,
        )
        try:
            password_validate(user=probe, password=password)
        except ValidationError as error:
            errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User(
            district=district,
            role=role,
            first_name=first_name,
            last_name=last_name,
            email=email,
            username=username
            or username_generate(district=district, first_name=first_name, last_name=last_name),
            year_group=year_group,
            source=source,
            sis_id=sis_id,
        )
        if password:
            user.set_password(password)
            user.password_mode = PasswordMode.STAFF
            user.status = Status.ACTIVE
            exempt = role == Role.STUDENT and district.students_exempt_from_password_change
            user.must_change_password = (
                not exempt if must_change_password is None else must_change_password
            )
            user.password_changed_at = timezone.now()
        else:
            user.set_unusable_password()
        user.save()
        if schools:
            user.set_schools(schools)
        audit.record(
            actor=actor,
            action="accounts.user.created",
            target=user,
            after=user_snapshot(user),
        )
        if not password and email and send_invitation:
            activation_send(user=user, actor=actor)
    return user


def user_snapshot(user: User, *, schools=None) -> dict:
    """The audited fields of an account (never its password). Bulk writers pass the
    schools they just linked, and assign year_group as an object, to spare queries."""
    if schools is None:
        schools = list(user.schools.all()) if user.pk else []
    return {
        "role": user.role,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "status": user.status,
        "year_group": user.year_group.name if user.year_group_id else None,
        "schools": sorted(school.name for school in schools),
        "must_change_password": user.must_change_password,
    }


def user_deactivate(*, user: User, actor: User | None) -> User:
    """Stops the user signing in: ends their sessions and voids their links."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk, district=user.district)
        if user.status == Status.DEACTIVATED:
            return user
        if actor is not None and actor.pk == user.pk:
            raise ValidationError("You cannot deactivate your own account")
        before = {"status": user.status}
        user.status = Status.DEACTIVATED
        user.deactivated_at = timezone.now()
        user.session_version += 1
        user.save(update_fields=["status", "deactivated_at", "session_version", "updated_at"])
        tokens_void(user=user)
        audit.record(
            actor=actor,
            action="accounts.user.deactivated",
            target=user,
            before=before,
            after={"status": user.status},
        )
    return user


def user_reactivate(*, user: User, actor: User | None) -> User:
    """Lets a deactivated user sign in again; one who never set a password is invited again."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk, district=user.district)
        if user.status != Status.DEACTIVATED:
            return user
        user.status = Status.ACTIVE if user.has_usable_password() else Status.INVITED
        user.deactivated_at = None
        user.save(update_fields=["status", "deactivated_at", "updated_at"])
        audit.record(
            actor=actor,
            action="accounts.user.reactivated",
            target=user,
            before={"status": Status.DEACTIVATED},
            after={"status": user.status},
        )
    return user


EDITABLE_FIELDS = ("first_name", "last_name", "email", "username", "role", "year_group", "schools")
# What the SIS owns on a rostered account; local fields (case manager) stay editable.
SIS_FIELDS = ("first_name", "last_name", "email", "username", "role", "year_group", "schools")


def user_update(*, user: User, actor: User | None, **changes) -> User:
    """Changes what an admin may change; fields owned by the SIS are refused on rostered
    accounts. Validates like creation (uniqueness in the district, known role)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    district = user.district
    if user.managed_by_sis:
        owned = [name for name in changes if name in SIS_FIELDS]
        if owned:
            raise ValidationError(
                {name: ["Managed by your SIS: change it there"] for name in owned}
            )
    errors: dict[str, list[str]] = {}
    for name in ("first_name", "last_name", "email", "username"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    if "first_name" in changes and not changes["first_name"]:
        errors["first_name"] = ["Enter a first name"]
    if "last_name" in changes and not changes["last_name"]:
        errors["last_name"] = ["Enter a last name"]
    if "role" in changes:
        allowed = {Role.STUDENT} if user.role == Role.STUDENT else STAFF_ROLES | {Role.GUARDIAN}
        if changes["role"] not in allowed:
            errors["role"] = ["Select a role"]
    others = User.objects.filter(district=district).exclude(pk=user.pk)
    if changes.get("email"):
        try:
            validate_email(changes["email"])
        except ValidationError:
            errors["email"] = ["Enter an email address in the correct format, like name@school.org"]
        else:
            if others.filter(email__iexact=changes["email"]).exists():
                errors["email"] = [
                    "Another account in this district already uses this email address"
                ]
    elif "email" in changes and user.password_mode == PasswordMode.SELF:
        errors["email"] = ["Enter an email address: this account signs in with emailed links"]
    if "username" in changes:
        if not USERNAME_RE.fullmatch(changes["username"]):
            errors["username"] = [USERNAME_MESSAGE]
        elif others.filter(username__iexact=changes["username"]).exists():
            errors["username"] = ["This username is taken: choose another"]
    if "schools" in changes and any(s.district_id != district.pk for s in changes["schools"]):
        errors["schools"] = ["Select schools of this district"]
    year_group = changes.get("year_group")
    if year_group is not None and year_group.district_id != district.pk:
        errors["year_group"] = ["Select a year group of this district"]
    if actor is not None and actor.role == Role.SCHOOL_ADMIN:
        errors.update(
            _reach_errors(
                actor=actor,
                role=changes.get("role", user.role),
                schools=changes["schools"] if "schools" in changes else list(user.schools.all()),
            )
        )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk, district=district)
        before = user_snapshot(user)
        schools = changes.pop("schools", None)
        for name, value in changes.items():
            setattr(user, name, value)
        user.save()
        if schools is not None:
            user.set_schools(schools)
        after = user_snapshot(user)
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            audit.record(
                actor=actor,
                action="accounts.user.updated",
                target=user,
                before={k: before[k] for k in changed},
                after=changed,
            )
    return user


def user_delete(*, user: User, actor: User | None) -> None:
    """Removes a deactivated account and its personal data. The audit trail keeps what
    happened, under an anonymous label."""
    if user.status != Status.DEACTIVATED:
        raise ValidationError(
            f"Deactivate {user.full_name} first: only deactivated accounts can be deleted"
        )
    from accounts.models import AuditEvent

    label = f"Deleted user #{user.pk}"
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk, district=user.district)
        events = AuditEvent.objects.filter(district=user.district)
        events.filter(target_type="user", target_id=user.pk).update(
            target_label=label, before={}, after={}
        )
        events.filter(actor=user).update(actor_label=label)
        audit.record(
            actor=actor,
            action="accounts.user.deleted",
            target=user,
            before={"role": user.role, "status": user.status},
        )
        AuditEvent.objects.filter(
            district=user.district, action="accounts.user.deleted", target_id=user.pk
        ).update(target_label=label)
        # The import rows that created or updated the account hold its personal data too.
        from bulkactions.models import ImportRow

        ImportRow.objects.filter(district=user.district, user=user).update(
            values={}, resolved={}, secret="", email_key="", username_key="", sis_key=""
        )
        user.delete()


def case_manager_assign(*, students, manager: User | None, actor: User | None) -> int:
    """Makes a staff member the case manager of students (None removes it); returns how
    many changed."""
    if manager is not None and manager.role not in STAFF_ROLES:
        raise ValidationError({"case_manager": ["Select a member of staff"]})
    changed = 0
    with transaction.atomic():
        for student in students:
            if student.role != Role.STUDENT:
                continue
            if manager is not None and manager.district_id != student.district_id:
                raise ValidationError({"case_manager": ["Select staff of this district"]})
            if student.case_manager_id == (manager.pk if manager else None):
                continue
            before = student.case_manager.full_name if student.case_manager_id else None
            User.objects.filter(pk=student.pk).update(case_manager=manager)
            audit.record(
                actor=actor,
                action="accounts.user.case_manager_changed",
                target=student,
                before={"case_manager": before},
                after={"case_manager": manager.full_name if manager else None},
            )
            changed += 1
    return changed
