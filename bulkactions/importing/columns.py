"""The fields an import understands and how a file's column names are matched to them.

Headers are compared after dropping case, spaces, punctuation and bracketed notes
("First Name [Required]" is "firstname"), against synonyms that include the column
names of Google Admin, Microsoft 365, Clever and OneRoster user exports.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from bulkactions.models import ImportKind, ImportPasswordMode


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    hint: str
    aliases: tuple[str, ...]
    kinds: tuple[str, ...] = (ImportKind.STAFF, ImportKind.STUDENTS)
    example_staff: str = ""
    example_student: str = ""


FIELDS = (
    Field(
        "first_name",
        "First name",
        "Required.",
        (
            "firstname",
            "givenname",
            "forename",
            "forenames",
            "fname",
            "first",
            "namegivenname",
            "legalfirstname",
            "preferredfirstname",
            "studentfirstname",
            "stafffirstname",
            "pupilfirstname",
        ),
        example_staff="Ana",
        example_student="Sam",
    ),
    Field(
        "last_name",
        "Last name",
        "Required.",
        (
            "lastname",
            "surname",
            "familyname",
            "lname",
            "last",
            "namefamilyname",
            "legallastname",
            "legalsurname",
            "studentlastname",
            "stafflastname",
            "pupilsurname",
            "pupillastname",
        ),
        example_staff="Díaz",
        example_student="Okafor",
    ),
    Field(
        "email",
        "Email",
        "Required for staff, and for students who set their own password.",
        (
            "email",
            "emailaddress",
            "mail",
            "primaryemail",
            "workemail",
            "schoolemail",
            "studentemail",
            "staffemail",
            "teacheremail",
            "userprincipalname",
            "upnemail",
        ),
        example_staff="ana.diaz@school.org",
        example_student="sam.okafor@students.school.org",
    ),
    Field(
        "username",
        "Username",
        "Optional: left empty, it is made from the district's username pattern.",
        ("username", "user", "login", "loginname", "logonname", "samaccountname", "accountname"),
    ),
    Field(
        "role",
        "Role",
        "Teacher, School admin or District admin. Empty means Teacher.",
        ("role", "roles", "userrole", "usertype", "accounttype", "stafftype", "type"),
        kinds=(ImportKind.STAFF,),
        example_staff="Teacher",
    ),
    Field(
        "schools",
        "School",
        "The school's name or code; several are separated by semicolons.",
        (
            "school",
            "schools",
            "schoolname",
            "schoolnames",
            "schoolcode",
            "campus",
            "site",
            "building",
            "location",
            "schoolid",
        ),
    ),
    Field(
        "year_group",
        "Year group",
        "Required, as this district names it (Year 7, Grade 7 or just 7).",
        (
            "yeargroup",
            "year",
            "grade",
            "gradelevel",
            "grades",
            "yearlevel",
            "ncyear",
            "currentgrade",
            "yeargrade",
            "studentgrade",
        ),
        kinds=(ImportKind.STUDENTS,),
        example_student="Year 7",
    ),
    Field(
        "classrooms",
        "Classes",
        "Optional: class names at the student's school, separated by semicolons.",
        (
            "classes",
            "class",
            "classroom",
            "classrooms",
            "classname",
            "section",
            "sections",
            "homeroom",
            "tutorgroup",
            "registrationgroup",
            "form",
            "formgroup",
        ),
        kinds=(ImportKind.STUDENTS,),
    ),
    Field(
        "sis_id",
        "SIS id",
        "Optional: the person's id in your student information system.",
        (
            "sisid",
            "studentid",
            "staffid",
            "studentnumber",
            "employeeid",
            "employeenumber",
            "externalid",
            "sourcedid",
            "idnumber",
            "upn",
            "misid",
            "localid",
            "stateid",
            "personid",
            "teacherid",
            "id",
            "identifier",
            "pupilid",
        ),
        example_staff="T-1042",
        example_student="S-22871",
    ),
    Field(
        "password",
        "Password",
        "Optional: left empty, a password is generated.",
        ("password", "initialpassword", "temporarypassword", "temppassword", "newpassword"),
        kinds=(ImportKind.STUDENTS,),
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}


def fields_for(kind: str, password_mode: str = ImportPasswordMode.EMAIL) -> list[Field]:
    return [
        f
        for f in FIELDS
        if kind in f.kinds
        and not (f.name == "password" and password_mode != ImportPasswordMode.SET)
    ]


def required_fields(kind: str, password_mode: str) -> list[str]:
    required = ["first_name", "last_name"]
    if kind == ImportKind.STAFF or password_mode == ImportPasswordMode.EMAIL:
        required.append("email")
    if kind == ImportKind.STUDENTS:
        required.append("year_group")
    return required


@lru_cache(maxsize=4096)  # a file repeats its schools and year groups on every row
def header_key(text: str) -> str:
    without_notes = re.sub(r"[\[(][^\])]*[\])]", "", text.lower())
    return re.sub(r"[\W_]+", "", without_notes)


def columns_match(
    header: list[str], *, kind: str, password_mode: str, remembered: dict[str, str] | None = None
) -> dict[str, str]:
    """Column index (as text) → field, from what the district chose before, then synonyms.
    A field is matched once: the first column that names it wins."""
    allowed = {f.name for f in fields_for(kind, password_mode)}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    keys = [header_key(text) for text in header]
    for index, key in enumerate(keys):
        field = (remembered or {}).get(key)
        if key and field in allowed and field not in used:
            mapping[str(index)], _ = field, used.add(field)
    for index, key in enumerate(keys):
        if str(index) in mapping or not key:
            continue
        for name in allowed - used:
            if key in FIELDS_BY_NAME[name].aliases:
                mapping[str(index)] = name
                used.add(name)
                break
    return mapping


def missing_fields(mapping: dict[str, str], *, kind: str, password_mode: str) -> list[str]:
    matched = set(mapping.values())
    return [name for name in required_fields(kind, password_mode) if name not in matched]
