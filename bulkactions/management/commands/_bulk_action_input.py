"""What `manage.py bulk_action` is given, checked before anything is written: the people
(--filter or --select-file) and the action's parameters (--param), with names accepted
where the web pages offer a list (year groups, schools, classes, roles)."""

from pathlib import Path

from django.db.models import Q

from accounts.models import Role, Source, Status, User
from accounts.selectors import (
    LIST_KINDS,
    UserFilters,
    users_for_list,
    users_visible_to,
    with_status,
)
from bulkactions import selection as file_selection
from bulkactions.management.commands._import_input import file_bytes, refused
from schools.models import Classroom, District, School, YearGroup

FILTERS = ("q", "school", "year_group", "classroom", "status", "role", "source", "case_manager")
# The one question each action asks (as on the wizard's details step).
PARAMETERS = {
    "year_group": ("year_group",),
    "role": ("role",),
    "school_add": ("school",),
    "classroom_add": ("classroom",),
    "classroom_remove": ("classroom",),
    "reset_password": ("mode", "password"),
}
NAMES_SHOWN = 30


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """["k=v", ...] → {"k": "v"}; a value may itself contain "="."""
    found: dict[str, str] = {}
    for value in values or []:
        key, equals, text = value.partition("=")
        key = key.strip().replace("-", "_")
        if not equals or not key:
            raise refused(
                f'{option} "{value}" is not name=value: write e.g. {option} status=active'
            )
        if key in found:
            raise refused(f"{option} {key} is given twice: give it once.")
        found[key] = text.strip()
    return found


def people_by_filter(district: District, actor: User | None, kind: str, given: dict):
    unknown = sorted(set(given) - set(FILTERS))
    if unknown:
        raise refused(
            f"--filter {', '.join(unknown)}: not a filter. Use one of: {', '.join(FILTERS)}."
        )
    params = {}
    for name, value in given.items():
        params[name] = _filter_value(district, kind, name, value)
    filters = UserFilters.from_params(params, kind=kind)
    base = users_visible_to(actor) if actor else User.objects.filter(district=district)
    users = with_status(users_for_list(base=base, kind=kind, filters=filters), filters)
    described = ", ".join(f"{name}={value}" for name, value in given.items())
    return users, f"Filter: {described}" if described else f"Filter: all {kind}"


def _filter_value(district: District, kind: str, name: str, value: str) -> str:
    option = f"--filter {name}"
    if name == "q":
        return value
    if name == "school":
        return str(school_named(district, value, option).pk)
    if name == "year_group":
        return str(year_group_named(district, value, option).pk)
    if name == "classroom":
        return str(classroom_named(district, value, option).pk)
    if name == "status":
        return _choice(value, Status, Status.values, option)
    if name == "source":
        return _choice(value, Source, Source.values, option)
    if name == "role":
        return _choice(value, Role, sorted(LIST_KINDS[kind]), option)
    # case_manager: "assigned", "unassigned", or a staff member's id or username
    if value.lower() in ("assigned", "unassigned"):
        return value.lower()
    named = Q(username__iexact=value) | (Q(pk=int(value)) if value.isdigit() else Q(pk__in=[]))
    manager = User.objects.filter(district=district, role__in=LIST_KINDS["staff"]).filter(named)
    manager = manager.first()
    if manager is None:
        raise refused(
            f"{option}={value}: no staff member of {district.slug} has this username or id. "
            "Give a username, an id, assigned or unassigned."
        )
    return str(manager.pk)


def _choice(value: str, choices, allowed: list[str], option: str) -> str:
    for code in allowed:
        if value.lower() in (code, str(choices(code).label).lower()):
            return code
    raise refused(f"{option}={value}: not a valid value. Use one of: {', '.join(allowed)}.")


def _named(queryset, value: str, option: str, what: str, label=lambda x: x.name):
    """One row by id or by name (ignoring case); otherwise a refusal listing the names."""
    match = queryset.filter(name__iexact=value.strip())
    if value.strip().isdigit():
        match = queryset.filter(Q(pk=int(value)) | Q(name__iexact=value.strip()))
    found = list(match[:2])
    if len(found) == 1:
        return found[0]
    names = [f"{label(row)} (id {row.pk})" for row in queryset[: NAMES_SHOWN + 1]]
    listed = "; ".join(names[:NAMES_SHOWN]) + ("; …" if len(names) > NAMES_SHOWN else "")
    if found:
        raise refused(f'{option}: more than one {what} is named "{value}": give its id. {listed}')
    raise refused(f'{option}: no {what} is named "{value}". Use one of: {listed or "none yet"}.')


def year_group_named(district: District, value: str, option: str) -> YearGroup:
    years = YearGroup.objects.filter(district=district).order_by("ordinal", "name")
    return _named(years, value, option, "year group")


def school_named(district: District, value: str, option: str) -> School:
    schools = School.objects.filter(district=district).order_by("name")
    found = schools.filter(code__iexact=value.strip()).first() if value.strip() else None
    return found or _named(schools, value, option, "school")


def classroom_named(district: District, value: str, option: str) -> Classroom:
    rooms = (
        Classroom.objects.filter(district=district, archived_at__isnull=True)
        .select_related("school")
        .order_by("school__name", "name")
    )
    return _named(rooms, value, option, "class", label=lambda c: f"{c.name}, {c.school.name}")


def action_params(district: District, action: str, given: dict) -> dict:
    """--param values as the services take them (ids as text, role codes)."""
    allowed = PARAMETERS.get(action, ())
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        takes = f"takes only {', '.join(allowed)}" if allowed else "takes no --param"
        raise refused(f"--param {', '.join(unknown)}: {action} {takes}.")
    if allowed and not given.get(allowed[0]):
        raise refused(f"{action} needs --param {allowed[0]}=… ({_hint(district, allowed[0])}).")
    params = dict(given)
    option = f"--param {allowed[0]}" if allowed else ""
    if "year_group" in params:
        params["year_group"] = str(year_group_named(district, params["year_group"], option).pk)
    if "school" in params:
        params["school"] = str(school_named(district, params["school"], option).pk)
    if "classroom" in params:
        params["classroom"] = str(classroom_named(district, params["classroom"], option).pk)
    if "role" in params:
        staff_roles = [Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN]
        params["role"] = _choice(params["role"], Role, staff_roles, option)
    if "mode" in params:
        params["mode"] = _choice_plain(params["mode"], ("generate", "set"), option)
        if params["mode"] == "set" and not params.get("password"):
            raise refused("--param mode=set needs --param password=… (the same for everyone).")
    return params


def _choice_plain(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value.lower() in allowed:
        return value.lower()
    raise refused(f"{option}={value}: not a valid value. Use one of: {', '.join(allowed)}.")


def _hint(district: District, name: str) -> str:
    if name == "year_group":
        names = YearGroup.objects.filter(district=district).order_by("ordinal")
        return "a year group's name or id: " + (
            ", ".join(y.name for y in names[:NAMES_SHOWN]) or "none yet"
        )
    if name == "classroom":
        return "a class's name or id"
    if name == "school":
        return "a school's name, code or id"
    if name == "role":
        return "teacher, school_admin or district_admin"
    return "generate, or set with --param password=…"


def people_from_file(district: District, actor: User | None, kind: str, path: Path):
    data = file_bytes(path)
    try:
        found = file_selection.people_from_file(
            district=district, actor=actor, kind=kind, data=data, file_name=path.name
        )
    except file_selection.SelectionRejected as error:
        raise refused(f"{path}: {error}") from None
    return found, f"File: {path.name}"
