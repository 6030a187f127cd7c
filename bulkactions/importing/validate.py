"""Checking import rows against the rules of account creation and against each other.

`row_check` judges one row against a `DistrictIndex` (the district's schools, year
groups, classes and accounts). The whole-file pass loads the index once; an inline
fix loads only what the edited row needs, so both paths apply the same rules.
Every problem is collected; nothing stops at the first.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Role, Status, User
from accounts.services.users import USERNAME_MESSAGE, USERNAME_RE, username_base
from bulkactions.importing.columns import FIELDS_BY_NAME, header_key, required_fields
from bulkactions.models import ImportJob, ImportKind, ImportMode, RowStatus
from bulkactions.secrets import secret_seal
from schools.models import Classroom, School, YearGroup

LIST_SPLIT = re.compile(r"\s*[;|]\s*")
DATE_LIKE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}([ T][\d:]+)?|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|"
    r"\d{1,2}-[A-Za-z]{3,9}(-\d{2,4})?|[A-Za-z]{3,9}-\d{1,4})$"
)
# A strict subset of what Django's EmailValidator accepts, checked first because it is
# many times cheaper; anything else goes through Django's validator.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
NAME_FIELDS = frozenset(("first_name", "last_name"))
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+\d+$")
STAFF_ROLE_WORDS = {
    "teacher": Role.TEACHER,
    "teachers": Role.TEACHER,
    "staff": Role.TEACHER,
    "faculty": Role.TEACHER,
    "educator": Role.TEACHER,
    "teachingstaff": Role.TEACHER,
    "schooladmin": Role.SCHOOL_ADMIN,
    "schooladministrator": Role.SCHOOL_ADMIN,
    "admin": Role.SCHOOL_ADMIN,
    "administrator": Role.SCHOOL_ADMIN,
    "districtadmin": Role.DISTRICT_ADMIN,
    "districtadministrator": Role.DISTRICT_ADMIN,
}
IDENTITY_LABELS = {"email": "email address", "username": "username", "sis_id": "SIS id"}
IDENTITIES = ("sis_id", "email", "username")  # the order an update matches by
USER_FIELDS = (
    "id",
    "role",
    "first_name",
    "last_name",
    "email",
    "username",
    "sis_id",
    "year_group_id",
    "school_names",
    "managed_by_sis",
    "status",
)


@dataclass
class RowCheck:
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict = field(default_factory=dict)
    secret: str = ""

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def warn(self, name: str, message: str) -> None:
        self.warnings.setdefault(name, []).append(message)

    @property
    def status(self) -> str:
        if self.errors:
            return RowStatus.ERROR
        return RowStatus.WARNING if self.warnings else RowStatus.VALID

    @property
    def email_key(self) -> str:
        return self.values.get("email", "").lower()

    @property
    def username_key(self) -> str:
        return self.resolved.get("username", "").lower()

    @property
    def sis_key(self) -> str:
        return self.values.get("sis_id", "").lower()


class DistrictIndex:
    """What rows are checked against. `users` maps each identity to the account holding it."""

    def __init__(self, job: ImportJob, *, users_query=None, usernames_query=None):
        district = job.district
        self.job = job
        self.district = district
        self.required = required_fields(job.kind, job.password_mode)
        self.sets_passwords = job.sets_passwords
        schools = list(School.objects.filter(district=district))
        self.schools_by_id = {s.pk: s for s in schools}
        self.schools: dict[str, School] = {}
        for school in schools:
            for key in (school.name, school.code, school.sis_id):
                if key:
                    self.schools.setdefault(header_key(key), school)
        self.only_school = schools[0] if len(schools) == 1 else None
        self.year_groups: dict[str, YearGroup] = {}
        for year in YearGroup.objects.filter(district=district):
            keys = {year.name, year.grade_code, year.grade_code.lstrip("0")}
            digits = re.findall(r"\d+", year.name)
            if len(digits) == 1:
                keys.add(digits[0])
            for key in keys:
                if key:
                    self.year_groups.setdefault(header_key(key), year)
        self.classrooms: dict[tuple[int, str], Classroom] = {}
        for room in Classroom.objects.filter(district=district).only(
            "id", "school_id", "name", "sis_id", "archived_at"
        ):
            self.classrooms[(room.school_id, room.name.lower())] = room
            if room.sis_id:
                self.classrooms.setdefault((room.school_id, room.sis_id.lower()), room)
        self.actor = job.created_by
        self.actor_school_ids = (
            set(self.actor.schools.values_list("pk", flat=True))
            if self.actor is not None and self.actor.role == Role.SCHOOL_ADMIN
            else None
        )
        users = User.objects.filter(district=district)
        if users_query is not None:
            users = users.filter(users_query)
        self.by_identity: dict[str, dict[str, tuple]] = {"email": {}, "username": {}, "sis_id": {}}
        for row in users.values_list(*USER_FIELDS).iterator(chunk_size=5000):
            email, username, sis_id = row[4], row[5], row[6]
            if email:
                self.by_identity["email"][email.lower()] = row
            self.by_identity["username"][username.lower()] = row
            if sis_id:
                self.by_identity["sis_id"][sis_id.lower()] = row
        self.usernames_taken = set(self.by_identity["username"])
        self.username_next: dict[str, int] = {}  # base → the number to try next
        if usernames_query is not None:
            self.usernames_taken |= {
                name.lower()
                for name in User.objects.filter(district=district)
                .filter(usernames_query)
                .values_list("username", flat=True)
            }

    @classmethod
    def whole(cls, job: ImportJob) -> "DistrictIndex":
        return cls(job)

    @classmethod
    def for_values(cls, job: ImportJob, values: dict[str, str]) -> "DistrictIndex":
        """Only the accounts one row can clash with, for an inline fix."""
        from django.db.models import Q

        query = Q(pk__in=[])
        if values.get("email"):
            query |= Q(email__iexact=values["email"])
        if values.get("username"):
            query |= Q(username__iexact=values["username"])
        if values.get("sis_id"):
            query |= Q(sis_id__iexact=values["sis_id"])
        base = username_base(
            pattern=job.district.username_pattern,
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
        )
        return cls(job, users_query=query, usernames_query=Q(username__istartswith=base))


def values_from_cells(cells: list[str], mapping: dict[str, str], width: int) -> RowCheck:
    """The mapped cells of one file row, trimmed, with a warning where spaces were removed."""
    check = RowCheck(values={})
    values = check.values
    count = len(cells)
    for index, name in mapping.items():
        i = int(index)
        raw = cells[i] if i < count else ""
        value = " ".join(raw.split()) if name in NAME_FIELDS else raw.strip()
        if value != raw and raw.strip():
            check.warn(name, "We removed spaces before or after this value")
        values[name] = value
    if len(cells) != width:
        where = "more" if len(cells) > width else "fewer"
        check.error(
            "_row",
            f"This row has {len(cells)} values but the header has {width} columns ({where}): "
            "check for a delimiter inside a value that is not in quotes",
        )
    return check


def row_check(check: RowCheck, index: DistrictIndex, *, taken_in_file: set[str]) -> RowCheck:
    """Validates one row's values and resolves what commit will write. `taken_in_file`:
    lowercase usernames other rows of the file hold, so a generated one avoids them."""
    job = index.job
    values = check.values
    for name in index.required:
        if not values.get(name):
            check.error(name, f"Enter the {FIELDS_BY_NAME[name].label.lower()}")
    for name in ("first_name", "last_name"):
        if len(values.get(name, "")) > 100:
            check.error(name, "Enter at most 100 characters")
    _check_email(check)
    _check_role(check, job)
    _check_schools(check, index)
    if job.kind == ImportKind.STUDENTS:
        _check_year_group(check, index)
        _check_classrooms(check, index)
    sis_id = values.get("sis_id", "")
    if sis_id and SCIENTIFIC.match(sis_id):
        check.error(
            "sis_id",
            f"A spreadsheet rounded this id to {sis_id}: format the column as text, "
            "then export the file again",
        )
    elif len(sis_id) > 255:
        check.error("sis_id", "Enter at most 255 characters")
    _check_existing(check, index)
    _check_username(check, index, taken_in_file)
    if index.sets_passwords:
        _check_password(check, index)
    _check_reach(check, index)
    return check


def _check_email(check: RowCheck) -> None:
    email = check.values.get("email", "")
    if not email or PLAIN_EMAIL.fullmatch(email):
        return
    try:
        validate_email(email)
    except ValidationError:
        check.error("email", "Enter an email address in the correct format, like name@school.org")


def _check_role(check: RowCheck, job: ImportJob) -> None:
    if job.kind == ImportKind.STUDENTS:
        check.resolved["role"] = Role.STUDENT
        return
    text = check.values.get("role", "")
    role = STAFF_ROLE_WORDS.get(header_key(text)) if text else Role.TEACHER
    if role is None:
        check.error("role", "Enter Teacher, School admin or District admin")
    else:
        check.resolved["role"] = role


def _check_schools(check: RowCheck, index: DistrictIndex) -> None:
    text = check.values.get("schools", "")
    ids = []
    for name in filter(None, LIST_SPLIT.split(text)):
        school = index.schools.get(header_key(name))
        if school is None:
            check.error(
                "schools",
                f"There is no school called “{name}” in this district: use a name or code "
                "from the list on the import page",
            )
        elif school.id not in ids:
            ids.append(school.id)
    if not text and index.only_school is not None:
        ids = [index.only_school.id]
    if not ids and not check.errors.get("schools"):
        role = check.resolved.get("role")
        if role in (Role.STUDENT, Role.SCHOOL_ADMIN):
            check.error("schools", "Enter the school")
    check.resolved["school_ids"] = ids


def _check_year_group(check: RowCheck, index: DistrictIndex) -> None:
    text = check.values.get("year_group", "")
    if not text:
        return
    year = index.year_groups.get(header_key(text))
    if year is None:
        year = index.year_groups.get(header_key(re.sub(r"(?i)^(year|grade|yr|y|g)\s*", "", text)))
    if year is not None:
        check.resolved["year_group_id"] = year.id
    elif DATE_LIKE.match(text):
        check.error(
            "year_group",
            f"“{text}” looks like a date: a spreadsheet may have changed the year group. "
            "Format the column as text and enter it like Year 7",
        )
    else:
        names = ", ".join(y.name for y in sorted(set(index.year_groups.values()), key=_ordinal))
        check.error("year_group", f"Enter a year group of this district: {names}")


def _ordinal(year: YearGroup) -> int:
    return year.ordinal


def _check_classrooms(check: RowCheck, index: DistrictIndex) -> None:
    text = check.values.get("classrooms", "")
    ids = []
    check.resolved["classroom_ids"] = ids
    if not text:
        return
    school_ids = check.resolved.get("school_ids", [])
    classrooms = index.classrooms
    for name in filter(None, LIST_SPLIT.split(text)):
        key = name.lower()
        room = None
        for sid in school_ids:
            room = classrooms.get((sid, key))
            if room is not None:
                break
        if room is None:
            where = " or ".join(index.schools_by_id[sid].name for sid in school_ids)
            check.error(
                "classrooms",
                f"There is no class called “{name}” at {where or 'the student’s school'}: "
                "check the spelling or add the class on the Classrooms page first",
            )
        elif room.archived_at is not None:
            check.error(
                "classrooms", f"The class “{room.name}” is archived: remove it from this row"
            )
        elif room.id not in ids:
            ids.append(room.id)


def _label(row: tuple) -> str:
    return f"{row[2]} {row[3]} ({row[5]})"


def _check_existing(check: RowCheck, index: DistrictIndex) -> None:
    """Create mode: an identity already in the district is an error. Update mode: the row
    names the account it updates (SIS id, then email, then username) and must not clash
    with any other account."""
    job = index.job
    values, by_identity = check.values, index.by_identity
    found = {}
    for name in IDENTITIES:
        text = values.get(name)
        if text:
            row = by_identity[name].get(text.lower())
            if row is not None:
                found[name] = row
    if not found:
        return
    if job.mode == ImportMode.CREATE:
        for name, row in found.items():
            check.error(
                name,
                f"{_label(row)} already has this {IDENTITY_LABELS[name]}: to change that "
                "account, import with “Create and update”",
            )
        return
    match = found.get("sis_id") or found.get("email") or found.get("username")
    for name, row in found.items():
        if row[0] != match[0]:
            check.error(
                name, f"Another account, {_label(row)}, already has this {IDENTITY_LABELS[name]}"
            )
    is_student_row = job.kind == ImportKind.STUDENTS
    if (match[1] == Role.STUDENT) != is_student_row:
        kind = "a student" if match[1] == Role.STUDENT else "a staff"
        check.error(
            "_row",
            f"This row matches {kind} account, {_label(match)}: students and staff are "
            "imported separately",
        )
        return
    if match[9]:
        check.error("_row", f"{_label(match)} is managed by your SIS: change this account there")
        return
    check.resolved["user_id"] = match[0]
    check.resolved["username"] = match[5]
    check.resolved["changes"] = _changes(check, match, index)
    if match[10] == Status.DEACTIVATED:
        check.warn("_row", f"{_label(match)} is deactivated and stays deactivated")


def _changes(check: RowCheck, row: tuple, index: DistrictIndex) -> dict:
    """Field → [now, after] for what an update changes. An empty cell never clears a value."""
    values = check.values
    current = {
        "first_name": row[2],
        "last_name": row[3],
        "email": row[4],
        "username": row[5],
        "sis_id": row[6],
    }
    changes = {}
    for name, now in current.items():
        new = values.get(name, "")
        if new and new != now:
            changes[name] = [now, new]
    role = check.resolved.get("role")
    if values.get("role") and role and role != row[1]:
        changes["role"] = [Role(row[1]).label, Role(role).label]
    year_id = check.resolved.get("year_group_id")
    if year_id and year_id != row[7]:
        years = {y.pk: y.name for y in index.year_groups.values()}
        changes["year_group"] = [years.get(row[7], ""), years.get(year_id, "")]
    if values.get("schools") and check.resolved.get("school_ids"):
        names = "; ".join(sorted(index.schools_by_id[i].name for i in check.resolved["school_ids"]))
        if names != row[8]:
            changes["schools"] = [row[8], names]
    return changes


def _check_username(check: RowCheck, index: DistrictIndex, taken_in_file: set[str]) -> None:
    typed = check.values.get("username", "")
    matched = check.resolved.get("user_id")
    if typed:
        if not USERNAME_RE.fullmatch(typed):
            check.error("username", USERNAME_MESSAGE)
        check.resolved["username"] = typed
        return
    if matched:
        return  # an update keeps the account's username unless the file gives one
    if not (check.values.get("first_name") or check.values.get("last_name")):
        return
    base = _username_base(
        index.district.username_pattern,
        check.values.get("first_name", ""),
        check.values.get("last_name", ""),
    )
    taken = index.usernames_taken
    # The sets only grow during a pass, so the search for a base goes on from the number
    # it last gave: a common name's 300th row does not try the 299 before it again.
    n = index.username_next.get(base, 2)
    username = base if n == 2 else f"{base}{n - 1}"
    while username in taken or username in taken_in_file:
        username = f"{base}{n}"
        n += 1
    index.username_next[base] = n
    check.resolved["username"] = username
    check.resolved["username_generated"] = True


@lru_cache(maxsize=16384)  # a district's common names repeat thousands of times in a file
def _username_base(pattern: str, first_name: str, last_name: str) -> str:
    return username_base(pattern=pattern, first_name=first_name, last_name=last_name)


def _check_password(check: RowCheck, index: DistrictIndex) -> None:
    from accounts.services.credentials import password_validate

    password = check.values.pop("password", "")
    if not password:
        if not check.resolved.get("user_id"):  # an updated account keeps its password
            check.resolved["password"] = "generate"
        return
    probe = User(
        district=index.district,
        first_name=check.values.get("first_name", ""),
        last_name=check.values.get("last_name", ""),
        email=check.values.get("email", ""),
        username=check.resolved.get("username", ""),
    )
    try:
        password_validate(user=probe, password=password)
    except ValidationError as error:
        for message in error.messages:
            check.error("password", message)
    check.resolved["password"] = "given"
    check.secret = secret_seal(password)


def _check_reach(check: RowCheck, index: DistrictIndex) -> None:
    """School admins import teachers and students of their own schools only."""
    own = index.actor_school_ids
    if own is None:
        return
    if check.resolved.get("role") not in (Role.TEACHER, Role.STUDENT, None):
        check.error("role", "School admins can import teachers and students only")
    school_ids = check.resolved.get("school_ids", [])
    # No school would put the account out of the school admin's reach (as user_create says).
    if any(sid not in own for sid in school_ids) or not (school_ids or check.errors.get("schools")):
        check.error("schools", "Enter one of your own schools")


def duplicate_message(name: str, others: list[int]) -> str:
    shown = ", ".join(str(n) for n in others[:3])
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    rows = "Row" if len(others) == 1 else "Rows"
    return (
        f"{rows} {shown}{more} of this file also {'has' if len(others) == 1 else 'have'} "
        f"this {IDENTITY_LABELS[name]}: each person needs their own"
    )
