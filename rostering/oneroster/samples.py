"""Sample OneRoster 1.1/1.2 districts for tests, the benchmark and the demo: CSV-shaped rows
(the same shape every source is turned into), the same district a year later, and the zip a
SIS would export. Everything is deterministic for a seed, down to the zip's bytes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import itertools
import random
import re
import string
import unicodedata
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from rostering.oneroster import spec

Rows = dict[str, list[dict[str, str]]]

DISTRICT_ID = "org-district"
ELEMENTARY = ("KG", "01", "02", "03", "04", "05")
SECONDARY = ("06", "07", "08", "09", "10", "11", "12")
# Promotion follows the CEDS order; 12 has no next grade: those students leave.
NEXT_GRADE = {g: spec.GRADES[i + 1] for i, g in enumerate(spec.GRADES[: spec.GRADES.index("12")])}

# Every file a manifest names (Table 2.1 of each binding), so unsupplied ones say "absent".
MANIFEST_FILES = {
    spec.V1_1: (
        "academicSessions",
        "categories",
        "classResources",
        "classes",
        "courseResources",
        "courses",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "users",
    ),
}
MANIFEST_FILES[spec.V1_2] = (*MANIFEST_FILES[spec.V1_1], "roles", "userProfiles")

_TOWNS = (
    "Northfield", "Riverside", "Maple Grove", "Cedar Hill", "Lakeview", "Brookside", "Oakridge",
    "Fairview", "Pinecrest", "Willowbrook", "Springdale", "Ashford", "Hillcrest", "Meadowbrook",
    "Stonebridge", "Kingsley", "Harbor Point", "Elmwood", "Silver Lake", "Greenfield", "Westbrook",
    "Clearwater", "Fox Hollow", "Bayside", "Redwood", "Granite Falls", "Mill Creek", "Sandpiper",
    "Hawthorne", "Beacon Hill", "Juniper", "Eastgate", "Glenwood", "Saint-Aubin", "Prairie View",
    "Copper Ridge", "Linden", "Whitmore", "Alder Bay", "Lone Pine", "Crestview", "Highgate",
)  # fmt: skip
_GIVEN = (
    "Ava", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Sofía", "Lucas", "Zoë", "Ethan", "Chloé",
    "Aiden", "Amara", "José", "Maya", "Elijah", "Aaliyah", "Kenji", "Priya", "Oliver", "Isabella",
    "Mohammed", "Fatima", "Jack", "Hannah", "Diego", "Leilani", "Siobhán", "Björn", "Renée",
    "Noël", "Anaïs", "François", "Nia", "Omar", "Yuki", "Grace", "Samuel", "Camila", "Theo",
    "Ingrid", "Kwame", "Mei", "Lucía", "Arjun", "Freya", "Tomás", "Eleanor", "Santiago", "Ruby",
    "Declan", "Imani", "Hugo", "Léa", "Xavier", "Ayesha", "Caleb", "Nora", "Ji-woo", "Matthew",
)  # fmt: skip
_FAMILY = (
    "Smith", "Johnson", "García", "Nguyen", "O'Brien", "Müller", "Okafor", "Patel", "Kowalski",
    "Rossi", "Kim", "D'Angelo", "Hernández", "Brown", "Williams", "Chen", "Dubois", "Jones",
    "Martínez", "Anderson", "Schröder", "O'Connor", "Ivanova", "Taylor", "Haddad", "Nakamura",
    "Lindqvist", "Moreau", "Singh", "Thompson", "MacLeod", "Walker", "Adeyemi", "Novak",
    "Fernández", "Clarke", "Jensen", "Ó Súilleabháin", "Lee", "Wright", "Byrne", "Costa",
    "Yılmaz", "Rahman", "Murphy", "Łukasik", "Baker", "Evans", "Tran", "Sánchez", "Wilson",
    "Hughes", "St. James", "Smith-Jones", "N'Diaye", "López", "Park", "Ødegaard", "Fitzgerald",
)  # fmt: skip
# 1.2 only: a few students go by a short name (preferredGivenName).
_NICKNAMES = {"Matthew": "Matt", "Samuel": "Sam", "Elijah": "Eli", "Eleanor": "Ellie",
              "Isabella": "Bella", "Santiago": "Santi", "Mohammed": "Mo", "Oliver": "Ollie"}  # fmt: skip
_ELEMENTARY_SUBJECTS = (
    ("ELA", "English Language Arts"), ("MATH", "Mathematics"), ("SCI", "Science"),
    ("SOC", "Social Studies"), ("ART", "Art"), ("MUS", "Music"), ("PE", "Physical Education"),
)  # fmt: skip
_SECONDARY_SUBJECTS = (
    ("ENG", "English"), ("MATH", "Mathematics"), ("SCI", "Science"), ("HIST", "History"),
    ("SPAN", "Spanish"), ("CS", "Computer Science"), ("ART", "Art"), ("PE", "Physical Education"),
)  # fmt: skip
_HOMEROOM = ("HR", "Homeroom")
# 1.1 has one administrator role; 1.2 splits it (shared/ONEROSTER.md §2).
_V1_1_ROLES = {"siteAdministrator": "administrator", "districtAdministrator": "administrator"}
_ASCII = str.maketrans({"ł": "l", "ø": "o", "ı": "i", "ß": "ss", "æ": "ae", "đ": "d"})
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


@dataclass
class SampleDistrict:
    """What to generate. Counts are exact, except guardians: siblings may share one."""

    version: str = spec.V1_1
    schools: int = 2
    students: int = 40
    teachers: int = 4
    # Site admins ("administrator" in 1.1, "siteAdministrator" in 1.2); 1.2 also gets one
    # "districtAdministrator" at the district org.
    admins: int = 1
    guardians_per_student: float = 0.5  # fraction of students with a guardian
    classes: int = 8
    # Distinct classes per student in their school (capped by the school's class count); all
    # of them teach the student's grade when there are classes enough (see _class_counts).
    enrollments_per_student: int = 4
    school_year: int = 2026  # the year the school year ends
    seed: int = 1
    shared_email_pairs: int = 0  # pairs of guardians sharing one email (co-parents)
    with_demographics: bool = False

    def __post_init__(self):
        if self.version not in spec.VERSIONS:
            raise ValueError(f"version must be one of {spec.VERSIONS}, not {self.version!r}")
        if self.schools < 1:
            raise ValueError("a district needs at least one school")
        if self.classes < self.schools:
            raise ValueError("classes must be at least schools: every school teaches a class")
        if self.teachers < 1:
            raise ValueError("classes need at least one teacher")
        if not 0 <= self.guardians_per_student <= 1:
            raise ValueError("guardians_per_student is a fraction between 0 and 1")
        counts = (self.students, self.admins, self.enrollments_per_student, self.shared_email_pairs)
        if min(counts) < 0:
            raise ValueError("counts cannot be negative")


def sample_rows(district: SampleDistrict) -> Rows:
    """The district as CSV rows per file name: every spec column, "" when blank, status and
    dateLastModified blank (a bulk snapshot). demographics.csv only with_demographics,
    roles.csv only in 1.2. One seed gives the same people in 1.1 and 1.2, plus 1.2's
    district administrator."""
    d = district
    cols = spec.COLUMNS[d.version]
    rng = random.Random(f"{d.seed}:people")
    town, schools = _schools(d, random.Random(f"{d.seed}:orgs"))
    domain = f"{_slug(town)}.example.org"
    rows: Rows = {
        "orgs.csv": _orgs(cols, town, schools),
        "academicSessions.csv": _sessions(cols, d.school_year),
    }
    students = _students(d, schools, rng)
    guardians = _guardians(d, students, rng)
    class_counts = _class_counts(d, schools, students)
    rows["courses.csv"], rows["classes.csv"] = _courses_and_classes(
        cols, schools, class_counts, d.school_year, random.Random(f"{d.seed}:classes")
    )
    teachers = _teachers(d, class_counts, rng)
    teaching = _teaching(schools, rows["classes.csv"], teachers, random.Random(f"{d.seed}:teach"))

    users = _Users(d.version, cols)
    serial = itertools.count(1)

    def add_staff(sourced_id, role, orgs, identifier):
        given, family, _ = _name(rng)
        username = _username(given, family, next(serial))
        users.add(
            sourced_id,
            role,
            orgs,
            username=username,
            givenName=given,
            familyName=family,
            identifier=identifier,
            email=f"{username}@{domain}",
            enabledUser="true" if rng.random() >= 0.01 else "false",
        )

    for n in range(1, d.admins + 1):
        school = schools[(n - 1) % len(schools)]
        add_staff(f"adm-{n:03d}", "siteAdministrator", [school["id"]], f"A{n:04d}")
    if d.version == spec.V1_2:
        users.add(
            "adm-district",
            "districtAdministrator",
            [DISTRICT_ID],
            username="district.admin",
            givenName="Morgan",
            familyName="Ellis-Okoro",
            identifier="A0000",
            email=f"district.admin@{domain}",
        )
    teacher_ids = [f"tch-{n:05d}" for n in range(1, len(teachers) + 1)]
    for n, orgs in enumerate(teachers):
        add_staff(teacher_ids[n], "teacher", [schools[i]["id"] for i in orgs], f"T{n + 1:05d}")

    student_ids = [f"stu-{n:06d}" for n in range(1, len(students) + 1)]
    guardian_ids = [f"gdn-{n:06d}" for n in range(1, len(guardians) + 1)]
    guardian_of = {child: guardian_ids[n] for n, kids in enumerate(guardians) for child in kids}
    for n, (grade, school, given, family, middle, is_enabled, has_email) in enumerate(students):
        username = _username(given, family, next(serial))
        users.add(
            student_ids[n],
            "student",
            [schools[school]["id"]],
            preferred=_NICKNAMES.get(given, "") if n % 4 == 0 else "",
            username=username,
            givenName=given,
            familyName=family,
            middleName=middle,
            identifier=f"S{n + 1:06d}",
            email=f"{username}@students.{domain}" if has_email else "",
            agentSourcedIds=guardian_of.get(n, ""),
            grades=grade,
            enabledUser="true" if is_enabled else "false",
        )

    people = []  # (username, given, family, role, email) per guardian
    for kids in guardians:
        given, _, _ = _name(rng)
        family = students[kids[0]][3]
        username = _username(given, family, next(serial))
        role = "parent" if rng.random() < 0.85 else "guardian"
        email = f"{username}@{rng.choice(('example.com', 'example.net'))}"
        people.append([username, given, family, role, email])
    pairs = random.Random(f"{d.seed}:shared-emails").sample(people, 2 * d.shared_email_pairs)
    for first, second in zip(pairs[::2], pairs[1::2], strict=True):
        second[4] = first[4]
    for n, (username, given, family, role, email) in enumerate(people):
        users.add(
            guardian_ids[n],
            role,
            _unique(schools[students[child][1]]["id"] for child in guardians[n]),
            username=username,
            givenName=given,
            familyName=family,
            email=email,
            agentSourcedIds=",".join(student_ids[child] for child in guardians[n]),
        )
    rows["users.csv"] = users.rows
    if d.version == spec.V1_2:
        rows["roles.csv"] = users.roles

    year = rows["academicSessions.csv"][0]
    enrollments = _Enrollments(cols, year["startDate"], year["endDate"], prefix="enr-")
    pools = _ClassPools(rows["classes.csv"])
    pick_rng = random.Random(f"{d.seed}:enrollments")
    for n, (grade, school, *_) in enumerate(students):
        school_id = schools[school]["id"]
        for class_id in pools.pick(pick_rng, school_id, grade, d.enrollments_per_student):
            enrollments.add(class_id, school_id, student_ids[n], "student")
    for class_id, school, teacher, is_primary in teaching:
        enrollments.add(
            class_id, schools[school]["id"], teacher_ids[teacher], "teacher", _bool(is_primary)
        )
    rows["enrollments.csv"] = enrollments.rows

    if d.with_demographics:
        demo_rng = random.Random(f"{d.seed}:demographics")
        rows["demographics.csv"] = [
            _demographics(cols, demo_rng, student_ids[n], student[0], d.school_year)
            for n, student in enumerate(students)
        ]
    return rows


def next_year(
    rows: Rows,
    *,
    version: str,
    leavers: float = 0.08,
    seed: int = 2,
    class_changes: float = 0.1,
    new_students: float = 0.0,
) -> Rows:
    """The same district a year later, as a bulk snapshot (the input is not changed).

    - The latest schoolYear session and its terms move one year on with new sourcedIds; the
      old sessions are gone; enrollment dates move with them.
    - Students leave: every one in the top grade (12 has no next grade), then random ones,
      so at least `leavers` of them (more when the top grade alone is larger); guardians
      left with no child go too. Everyone else moves up one grade; one whose school does
      not teach the new grade (05 -> 06) moves to a school that does, with new enrollments.
    - `class_changes` of the classes get a new title (same sourcedId) and as many others a
      new sourcedId, their enrollments moved to it under new enrollment sourcedIds.
    - Teachers keep their sourcedIds and classes. `new_students` (a fraction of last year's
      students) join in the two lowest grades.
    """
    if version not in spec.VERSIONS:
        raise ValueError(f"version must be one of {spec.VERSIONS}, not {version!r}")
    if not 0 <= class_changes <= 0.5:
        raise ValueError("class_changes is a fraction up to 0.5 (renamed and replaced differ)")
    if not 0 <= leavers <= 1 or new_students < 0:
        raise ValueError("leavers is a fraction between 0 and 1; new_students is not negative")
    rng = random.Random(f"{seed}:next-year")
    cols = spec.COLUMNS[version]
    out = {name: [dict(row) for row in file_rows] for name, file_rows in rows.items()}

    sessions, session_ids = _next_sessions(out["academicSessions.csv"])
    out["academicSessions.csv"] = sessions
    year = sessions[0]
    new_year = int(year["schoolYear"])
    terms = [s["sourcedId"] for s in sessions if s["parentSourcedId"] == year["sourcedId"]]
    for course in out.get("courses.csv", ()):
        if course["schoolYearSourcedId"]:
            course["schoolYearSourcedId"] = session_ids.get(
                course["schoolYearSourcedId"], year["sourcedId"]
            )

    classes = out["classes.csv"]
    for row in classes:
        mapped = [session_ids[t] for t in _split(row["termSourcedIds"]) if t in session_ids]
        row["termSourcedIds"] = ",".join(mapped or terms or [year["sourcedId"]])
    replaced = _rename_and_replace(classes, round(class_changes * len(classes)), new_year, rng)
    pools = _ClassPools(classes)

    users = out["users.csv"]
    role_of, orgs_of = _memberships(out, version)
    students = [u for u in users if role_of.get(u["sourcedId"]) == "student"]
    gone = _leavers(students, leavers, rng)

    affected = set()  # guardians whose children, or children's schools, changed
    for user in users:
        agents = _split(user["agentSourcedIds"])
        if role_of.get(user["sourcedId"]) == "student" or not agents:
            continue
        kept = [child for child in agents if child not in gone]
        if not kept:
            gone.add(user["sourcedId"])
        elif len(kept) < len(agents):
            user["agentSourcedIds"] = ",".join(kept)
            affected.add(user["sourcedId"])

    movers = {}  # student -> (old school, new school)
    for user in students:
        uid = user["sourcedId"]
        if uid in gone:
            continue
        grade = NEXT_GRADE.get(user["grades"], user["grades"])
        user["grades"] = grade
        school = (orgs_of.get(uid) or [""])[0]
        if grade not in pools.grades.get(school, ()) and pools.serving.get(grade):
            new_school = rng.choice(pools.serving[grade])
            movers[uid] = (school, new_school)
            orgs_of[uid] = [new_school if org == school else org for org in orgs_of[uid]]
            if version == spec.V1_1:
                user["orgSourcedIds"] = ",".join(orgs_of[uid])
            elif user["primaryOrgSourcedId"] == school:
                user["primaryOrgSourcedId"] = new_school
            affected.update(_split(user["agentSourcedIds"]))

    counts = Counter(e["userSourcedId"] for e in out["enrollments.csv"] if e["role"] == "student")
    typical = Counter(counts.values()).most_common(1)[0][0] if counts else 4
    added = _Enrollments(cols, year["startDate"], year["endDate"], prefix=f"enr-{new_year}-")
    enrollments = []
    for row in out["enrollments.csv"]:
        uid = row["userSourcedId"]
        if uid in gone or (uid in movers and row["role"] == "student"):
            continue
        row["beginDate"], row["endDate"] = _shift(row["beginDate"]), _shift(row["endDate"])
        if row["classSourcedId"] in replaced:
            new_id = replaced[row["classSourcedId"]]
            row = {**row, "sourcedId": added.new_id(), "classSourcedId": new_id}
        enrollments.append(row)
    for user in students:
        if user["sourcedId"] in movers:
            school = movers[user["sourcedId"]][1]
            count = counts[user["sourcedId"]] or typical
            for class_id in pools.pick(rng, school, user["grades"], count):
                added.add(class_id, school, user["sourcedId"], "student")

    joiners = _Users(version, cols)
    demographics = []
    if new_students:
        count = round(new_students * len(students))
        for uid, school, grade in _new_students(
            joiners, users, students, pools, count, new_year, rng
        ):
            orgs_of[uid] = [school]
            for class_id in pools.pick(rng, school, grade, typical):
                added.add(class_id, school, uid, "student")
            if "demographics.csv" in out:
                demographics.append(_demographics(cols, rng, uid, grade, new_year))

    out["users.csv"] = [u for u in users if u["sourcedId"] not in gone] + joiners.rows
    for user in out["users.csv"]:
        uid = user["sourcedId"]
        if uid in affected:
            children = _split(user["agentSourcedIds"])
            orgs_of[uid] = _unique(orgs_of[c][0] for c in children if orgs_of.get(c))
            if version == spec.V1_1:
                user["orgSourcedIds"] = ",".join(orgs_of[uid])
            else:
                user["primaryOrgSourcedId"] = orgs_of[uid][0]
    out["enrollments.csv"] = enrollments + added.rows
    if "demographics.csv" in out:
        kept = [row for row in out["demographics.csv"] if row["sourcedId"] not in gone]
        out["demographics.csv"] = kept + demographics
    if version == spec.V1_2:
        roles = []
        for row in out.get("roles.csv", ()):
            uid = row["userSourcedId"]
            if uid in gone or uid in affected:
                continue
            if uid in movers and row["orgSourcedId"] == movers[uid][0]:
                new_school = movers[uid][1]
                row = {**row, "sourcedId": _role_id(uid, new_school), "orgSourcedId": new_school}
            row["beginDate"], row["endDate"] = _shift(row["beginDate"]), _shift(row["endDate"])
            roles.append(row)
        role_blank = dict.fromkeys(cols["roles.csv"], "")
        for user in out["users.csv"]:
            if user["sourcedId"] in affected:
                uid = user["sourcedId"]
                roles += _role_rows(role_blank, uid, role_of[uid], orgs_of[uid])
        out["roles.csv"] = roles + joiners.roles
    return out


def _new_students(joiners, users, students, pools, count, new_year, rng):
    """Adds `count` students in the two lowest grades taught to `joiners`, numbered on from
    the existing ones; yields (sourcedId, school, grade) for each."""
    lowest = [g for g in spec.GRADES if g in pools.serving][:2]
    if not lowest:
        return
    serial = max((_number(u["username"]) for u in users), default=0)
    number = max((_number(u["identifier"]) for u in students), default=0)
    domains = Counter(u["email"].partition("@")[2] for u in students if u["email"])
    domain = domains.most_common(1)[0][0] if domains else "students.example.org"
    for n in range(1, count + 1):
        grade = lowest[0] if len(lowest) == 1 or rng.random() < 0.75 else lowest[1]
        school = rng.choice(pools.serving[grade])
        given, family, middle = _name(rng)
        username = _username(given, family, serial + n)
        uid = f"stu-{new_year}-{n:05d}"
        joiners.add(
            uid,
            "student",
            [school],
            username=username,
            givenName=given,
            familyName=family,
            middleName=middle,
            identifier=f"S{number + n:06d}",
            email=f"{username}@{domain}" if rng.random() < 0.85 else "",
            grades=grade,
        )
        yield uid, school, grade


def _rename_and_replace(classes, changes, new_year, rng):
    """Retitles `changes` classes and gives as many others a new sourcedId, in place;
    returns old sourcedId -> new."""
    chosen = rng.sample(range(len(classes)), 2 * changes)
    for i in chosen[:changes]:
        classes[i]["title"] = f"{classes[i]['title']} {new_year - 1}-{new_year % 100:02d}"
    taken = {row["sourcedId"] for row in classes}
    replaced = {}
    for n, i in enumerate(sorted(chosen[changes:]), 1):
        new_id = f"cls-{new_year}-{n:05d}"
        while new_id in taken:
            new_id += "b"
        replaced[classes[i]["sourcedId"]] = new_id
        classes[i]["sourcedId"] = new_id
    return replaced


def _leavers(students, leavers, rng):
    """The top grade of the ladder the district teaches (12, or 05 for an elementary
    district), then random others up to `leavers` of all. Ungraded codes (UG, Other...)
    are nobody's top grade."""
    ladder = [u["grades"] for u in students if u["grades"] in NEXT_GRADE or u["grades"] == "12"]
    top = max(ladder, key=_GRADE_ORDER.get, default="12")
    graduates = [u["sourcedId"] for u in students if u["grades"] == top]
    others = [u["sourcedId"] for u in students if u["grades"] != top]
    extra = min(max(round(leavers * len(students)) - len(graduates), 0), len(others))
    return set(graduates) | set(rng.sample(others, extra))


def bundle_zip(
    rows: Rows,
    *,
    version: str,
    modes: dict[str, str] | None = None,
    bom: bool = False,
    crlf: bool = False,
    extra_files: dict[str, bytes] | None = None,
    omit_files: tuple = (),
) -> bytes:
    """A OneRoster CSV bundle as a SIS exports it: manifest.csv and one CSV per file at the
    zip root, headers with every spec column in spec order. The manifest says bulk for the
    files in `rows` and absent for the others; `modes` overrides ("users" or "users.csv").
    `omit_files` leaves a CSV out but keeps its manifest row; `extra_files` adds or replaces
    files byte for byte."""
    if version not in spec.VERSIONS:
        raise ValueError(f"version must be one of {spec.VERSIONS}, not {version!r}")
    columns = spec.COLUMNS[version]
    unknown = sorted(set(rows) - set(columns))
    if unknown:
        raise ValueError(f"not OneRoster {version} files: {', '.join(unknown)}; use extra_files")
    mode_of = dict.fromkeys(MANIFEST_FILES[version], "absent")
    mode_of.update((_stem(name), "bulk") for name in rows)
    mode_of.update((_stem(name), mode) for name, mode in (modes or {}).items())
    manifest = [
        ("manifest.version", "1.0"),
        ("oneroster.version", version),
        *((f"file.{name}", mode) for name, mode in mode_of.items()),
        ("source.systemName", "Rollbook samples"),
    ]
    omitted = {_stem(name) for name in omit_files}
    files = {"manifest.csv": _csv_bytes(("propertyName", "value"), manifest, bom, crlf)}
    for name in spec.ROSTER_FILES:
        if name in rows and _stem(name) not in omitted:
            records = _records(rows[name], columns[name])
            files[name] = _csv_bytes(columns[name], records, bom, crlf)
    files.update(extra_files or {})

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            # A fixed timestamp: the same rows give the same bytes.
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=1)
    return buffer.getvalue()


def write_bundle(path, rows: Rows, *, version: str, **kwargs) -> None:
    Path(path).write_bytes(bundle_zip(rows, version=version, **kwargs))


_GRADE_ORDER = {grade: n for n, grade in enumerate(spec.GRADES)}
_TRAILING_NUMBER = re.compile(r"\d+$")
_YEAR = re.compile(r"\b\d{4}\b")
_RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)


def _schools(d: SampleDistrict, rng: random.Random) -> tuple[str, list[dict]]:
    """The district's town, then its schools: elementary (KG-05) first, high schools (06-12)
    after, in proportion to the grades they teach; a one-school district teaches KG-12."""
    towns = list(_TOWNS)
    rng.shuffle(towns)
    district_town, places = towns[0], towns[1:]
    n_elementary = 0 if d.schools == 1 else min(d.schools - 1, max(1, round(d.schools * 6 / 13)))
    schools = []
    for i in range(d.schools):
        if d.schools == 1:
            kind, prefix, grades = "School", "SC", ELEMENTARY + SECONDARY
        elif i < n_elementary:
            kind, prefix, grades = "Elementary School", "ES", ELEMENTARY
        else:
            kind, prefix, grades = "High School", "HS", SECONDARY
        again = f" {i // len(places) + 1}" if i >= len(places) else ""
        schools.append(
            {
                "id": f"org-sch-{i + 1:02d}",
                "name": f"{places[i % len(places)]} {kind}{again}",
                "code": f"{prefix}{i + 1:02d}",
                "grades": grades,
                "weight": rng.uniform(0.7, 1.3),
            }
        )
    return district_town, schools


def _orgs(cols, town, schools):
    blank = dict.fromkeys(cols["orgs.csv"], "")
    district = {
        **blank,
        "sourcedId": DISTRICT_ID,
        "name": f"{town} Unified School District",
        "type": "district",
        "identifier": "USD",
    }
    return [district] + [
        {
            **blank,
            "sourcedId": school["id"],
            "name": school["name"],
            "type": "school",
            "identifier": school["code"],
            "parentSourcedId": DISTRICT_ID,
        }
        for school in schools
    ]


def _sessions(cols, year):
    blank = dict.fromkeys(cols["academicSessions.csv"], "")
    year_id, ends = f"as-{year}", str(year)
    return [
        {**blank, "sourcedId": year_id, "title": f"{year - 1}-{year}", "type": "schoolYear",
         "startDate": f"{year - 1}-08-15", "endDate": f"{year}-06-30", "schoolYear": ends},
        {**blank, "sourcedId": f"{year_id}-t1", "title": f"Fall {year - 1}", "type": "term",
         "startDate": f"{year - 1}-08-15", "endDate": f"{year - 1}-12-19",
         "parentSourcedId": year_id, "schoolYear": ends},
        {**blank, "sourcedId": f"{year_id}-t2", "title": f"Spring {year}", "type": "term",
         "startDate": f"{year}-01-05", "endDate": f"{year}-06-30",
         "parentSourcedId": year_id, "schoolYear": ends},
    ]  # fmt: skip


def _students(d, schools, rng):
    """[grade, school index, given, family, middle, is_enabled, has_email] per student: a
    grade, then a school teaching it (schools differ in size)."""
    grade_schools = defaultdict(list)
    for index, school in enumerate(schools):
        for grade in school["grades"]:
            grade_schools[grade].append(index)
    cum_weights = {
        grade: list(itertools.accumulate(schools[i]["weight"] for i in indexes))
        for grade, indexes in grade_schools.items()
    }
    grades = tuple(g for g in spec.GRADES if g in grade_schools)
    students = []
    for _ in range(d.students):
        grade = rng.choice(grades)
        school = rng.choices(grade_schools[grade], cum_weights=cum_weights[grade])[0]
        students.append([grade, school, *_name(rng), rng.random() >= 0.01, rng.random() < 0.85])
    return students


def _guardians(d, students, rng):
    """Children (student indexes) per guardian: one guardian per chosen student, now and then
    a sibling (same family name) sharing the previous one, often at another school."""
    guardians = []
    for index in rng.sample(range(len(students)), round(d.guardians_per_student * d.students)):
        if guardians and len(guardians[-1]) == 1 and rng.random() < 0.15:
            guardians[-1].append(index)
            students[index][3] = students[guardians[-1][0]][3]
        else:
            guardians.append([index])
    if 2 * d.shared_email_pairs > len(guardians):
        raise ValueError(
            f"{d.shared_email_pairs} shared email pairs need {2 * d.shared_email_pairs} guardians; this district has {len(guardians)}"
        )
    return guardians


def _teachers(d, class_counts, rng):
    """School indexes per teacher, primary first: spread like the classes, at least one per
    school when there are enough; a few also work at a second school."""
    teachers = [
        [index]
        for index, count in enumerate(_allocate(d.teachers, class_counts, 1))
        for _ in range(count)
    ]
    if len(class_counts) > 1:
        for orgs in teachers:
            if rng.random() < 0.05:
                other = rng.randrange(len(class_counts) - 1)
                orgs.append(other + (other >= orgs[0]))
    return teachers


def _teaching(schools, classes, teachers, rng):
    """(class, school index, teacher index, is_primary): one primary teacher per class, taken
    in turn from the school's own teachers; teachers visiting from another school co-teach
    there, and about a fifth of the other classes get a co-teacher too."""
    index_of = {school["id"]: n for n, school in enumerate(schools)}
    class_ids = defaultdict(list)
    for row in classes:
        class_ids[index_of[row["schoolSourcedId"]]].append(row["sourcedId"])
    own, visiting = defaultdict(list), defaultdict(list)
    for n, orgs in enumerate(teachers):
        own[orgs[0]].append(n)
        for index in orgs[1:]:
            visiting[index].append(n)
    teaching = []
    for index in range(len(schools)):
        if not own[index]:
            # Fewer teachers than schools: one is borrowed and works at two schools.
            n = index % len(teachers)
            own[index].append(n)
            if index not in teachers[n]:
                teachers[n].append(index)
        co_teacher = {}
        for n in visiting[index]:
            co_teacher.setdefault(rng.choice(class_ids[index]), n)
        candidates = own[index] + visiting[index]
        for j, class_id in enumerate(class_ids[index]):
            primary = own[index][j % len(own[index])]
            teaching.append((class_id, index, primary, True))
            second = co_teacher.get(class_id)
            if second is None and len(candidates) > 1 and rng.random() < 0.2:
                second = rng.choice(candidates)
            if second is not None and second != primary:
                teaching.append((class_id, index, second, False))
    return teaching


def _courses_and_classes(cols, schools, class_counts, year, rng):
    """Per school: a homeroom per grade when there are classes enough, then classes of one
    grade each in turn (or of a band of grades when there are fewer classes than grades),
    cycling through the subjects; one course per subject per school."""
    course_blank = dict.fromkeys(cols["courses.csv"], "")
    class_blank = dict.fromkeys(cols["classes.csv"], "")
    year_id, terms = f"as-{year}", (f"as-{year}-t1", f"as-{year}-t2")
    courses, classes = [], []
    for index, (school, count) in enumerate(zip(schools, class_counts, strict=True)):
        course_grades = defaultdict(set)
        course_subject = {}
        sections = Counter()
        for n, (grades, is_homeroom) in enumerate(_class_plan(count, school["grades"])):
            if is_homeroom:
                (code, subject), section = _HOMEROOM, ""
            else:
                subjects = _ELEMENTARY_SUBJECTS if grades[0] in ELEMENTARY else _SECONDARY_SUBJECTS
                code, subject = subjects[n % len(subjects)]
                section = _section(sections[grades, code])
                sections[grades, code] += 1
            course_id = f"crs-{index + 1:02d}-{code.lower()}"
            course_grades[course_id].update(grades)
            course_subject[course_id] = (code, subject)
            is_full_year = is_homeroom or grades[0] in ELEMENTARY or rng.random() < 0.7
            title = f"{subject} - {_grade_label(grades)}" + (f" ({section})" if section else "")
            classes.append(
                {
                    **class_blank,
                    "sourcedId": f"cls-{len(classes) + 1:05d}",
                    "title": title,
                    "grades": ",".join(grades),
                    "courseSourcedId": course_id,
                    "classCode": "-".join((code, *grades, section)).rstrip("-"),
                    "classType": "homeroom" if is_homeroom else "scheduled",
                    "location": f"Room {rng.randrange(100, 300)}",
                    "schoolSourcedId": school["id"],
                    "termSourcedIds": ",".join(terms) if is_full_year else rng.choice(terms),
                    "subjects": subject,
                    "periods": "" if is_homeroom else str(rng.randint(1, 8)),
                }
            )
        for course_id, (code, subject) in course_subject.items():
            courses.append(
                {
                    **course_blank,
                    "sourcedId": course_id,
                    "schoolYearSourcedId": year_id,
                    "title": subject,
                    "courseCode": code,
                    "grades": ",".join(sorted(course_grades[course_id], key=_GRADE_ORDER.get)),
                    "orgSourcedId": school["id"],
                    "subjects": subject,
                }
            )
    return courses, classes


def _class_counts(d, schools, students):
    """Classes per school, in proportion to its students. When there are enough, every school
    first gets a homeroom and enrollments_per_student - 1 other classes per grade, so each
    student's classes all teach their grade; otherwise _ClassPools tops them up."""
    per_school = Counter(student[1] for student in students)
    weights = [per_school[i] + 1 for i in range(len(schools))]
    needs = [len(school["grades"]) * max(d.enrollments_per_student, 2) for school in schools]
    if d.classes < sum(needs):
        return _allocate(d.classes, weights, d.enrollments_per_student)
    extra = _allocate(d.classes - sum(needs), weights, 0)
    return [need + more for need, more in zip(needs, extra, strict=True)]


def _class_plan(count, grades):
    """(grades taught, is_homeroom) for each of a school's `count` classes."""
    g = len(grades)
    if count >= 2 * g:
        homerooms = [((grade,), True) for grade in grades]
        return homerooms + [((grades[j % g],), False) for j in range(count - g)]
    if count >= g:
        return [((grades[j % g],), False) for j in range(count)]
    return [(tuple(grades[j * g // count : (j + 1) * g // count]), False) for j in range(count)]


def _grade_label(grades):
    if len(grades) == 1:
        return "Kindergarten" if grades[0] == "KG" else f"Grade {int(grades[0])}"
    first, last = ("K" if g == "KG" else str(int(g)) for g in (grades[0], grades[-1]))
    return f"Grades {first}-{last}"


def _section(n):
    return string.ascii_uppercase[n] if n < 26 else str(n + 1)


class _ClassPools:
    """Which classes a student of a grade joins at a school: the grade's homeroom, then other
    classes of the grade, topped up from the rest of the school when there are too few."""

    def __init__(self, classes):
        self.school = defaultdict(list)
        self.homeroom = {}
        self.grade = defaultdict(list)
        self.grades = defaultdict(set)  # school -> grades taught
        for row in classes:
            class_id, school = row["sourcedId"], row["schoolSourcedId"]
            self.school[school].append(class_id)
            for grade in _split(row["grades"]):
                self.grades[school].add(grade)
                if row["classType"] == "homeroom":
                    self.homeroom.setdefault((school, grade), class_id)
                else:
                    self.grade[(school, grade)].append(class_id)
        self.serving = defaultdict(list)  # grade -> schools teaching it
        for school, grades in self.grades.items():
            for grade in grades:
                self.serving[grade].append(school)

    def pick(self, rng, school, grade, k):
        k = min(k, len(self.school.get(school, ())))
        homeroom = self.homeroom.get((school, grade))
        picked = [homeroom] if homeroom and k else []
        others = self.grade.get((school, grade), ())
        need = k - len(picked)
        if need <= len(others):
            return picked + rng.sample(others, need)
        picked += others
        rest = [c for c in self.school[school] if c not in picked]
        return picked + rng.sample(rest, k - len(picked))


class _Users:
    """users.csv rows and, in 1.2, the roles.csv rows that carry each user's orgs."""

    def __init__(self, version, cols):
        self.is_v1_1 = version == spec.V1_1
        self.blank = dict.fromkeys(cols["users.csv"], "")
        self.role_blank = dict.fromkeys(cols.get("roles.csv", ()), "")
        self.rows, self.roles = [], []

    def add(self, sourced_id, role, orgs, preferred="", **fields):
        row = {**self.blank, "sourcedId": sourced_id, "enabledUser": "true", **fields}
        if self.is_v1_1:
            row["role"] = _V1_1_ROLES.get(role, role)
            row["orgSourcedIds"] = ",".join(orgs)
        else:
            row["primaryOrgSourcedId"] = orgs[0]
            row["preferredGivenName"] = preferred
            self.roles += _role_rows(self.role_blank, sourced_id, role, orgs)
        self.rows.append(row)


def _role_rows(blank, user_id, role, orgs):
    return [
        {
            **blank,
            "sourcedId": _role_id(user_id, org),
            "userSourcedId": user_id,
            "roleType": "secondary" if n else "primary",
            "role": role,
            "orgSourcedId": org,
        }
        for n, org in enumerate(orgs)
    ]


def _role_id(user_id, org_id):
    return f"rl-{user_id}-{org_id.removeprefix('org-')}"


class _Enrollments:
    def __init__(self, cols, begin, end, *, prefix):
        self.blank = {
            **dict.fromkeys(cols["enrollments.csv"], ""),
            "beginDate": begin,
            "endDate": end,
        }
        self.prefix = prefix
        self.count = 0
        self.rows = []

    def new_id(self):
        self.count += 1
        return f"{self.prefix}{self.count:07d}"

    def add(self, class_id, school_id, user_id, role, primary=""):
        self.rows.append(
            {
                **self.blank,
                "sourcedId": self.new_id(),
                "classSourcedId": class_id,
                "schoolSourcedId": school_id,
                "userSourcedId": user_id,
                "role": role,
                "primary": primary,
            }
        )


def _demographics(cols, rng, user_id, grade, year):
    # Five on 1 September of the year the school year starts, in kindergarten.
    level = _GRADE_ORDER.get(grade, _GRADE_ORDER["KG"]) - _GRADE_ORDER["KG"]
    born = dt.date(year - 7 - level, 9, 2) + dt.timedelta(days=rng.randrange(365))
    sex = rng.choices(("female", "male", "unspecified", "other"), cum_weights=(49, 98, 99.5, 100))
    race = rng.choices(_RACES, cum_weights=(1, 7, 20, 21, 80, 100))[0]
    return {
        **dict.fromkeys(cols["demographics.csv"], ""),
        "sourcedId": user_id,
        "birthDate": born.isoformat(),
        "sex": sex[0],
        **dict.fromkeys(_RACES, "false"),
        race: "true",
        "hispanicOrLatinoEthnicity": _bool(rng.random() < 0.2),
    }


def _next_sessions(sessions):
    """The latest school year and every session under it, one year on under new sourcedIds
    (the year first), and old sourcedId -> new."""
    years = [s for s in sessions if s["type"] == "schoolYear" and s["schoolYear"].isdigit()]
    if not years:
        raise ValueError("academicSessions.csv has no schoolYear session to roll over")
    year = max(years, key=lambda s: int(s["schoolYear"]))
    old, new = year["schoolYear"], str(int(year["schoolYear"]) + 1)
    children = defaultdict(list)
    for session in sessions:
        children[session["parentSourcedId"]].append(session)
    family = [year]
    for session in family:  # grows as it goes: terms, then their grading periods
        family += children.get(session["sourcedId"], ())
    ids = {
        s["sourcedId"]: s["sourcedId"].replace(old, new)
        if old in s["sourcedId"]
        else f"{s['sourcedId']}-{new}"
        for s in family
    }
    shifted = [
        {
            **s,
            "sourcedId": ids[s["sourcedId"]],
            "parentSourcedId": ids.get(s["parentSourcedId"], s["parentSourcedId"]),
            "title": _YEAR.sub(lambda m: str(int(m[0]) + 1), s["title"]),
            "startDate": _shift(s["startDate"]),
            "endDate": _shift(s["endDate"]),
            "schoolYear": str(int(s["schoolYear"]) + 1) if s["schoolYear"].isdigit() else "",
        }
        for s in family
    ]
    return shifted, ids


@functools.cache
def _shift(date: str) -> str:
    """The same day a year later (28 February for 29 February)."""
    if not date:
        return date
    day = dt.date.fromisoformat(date)
    try:
        return day.replace(year=day.year + 1).isoformat()
    except ValueError:
        return day.replace(year=day.year + 1, day=28).isoformat()


def _memberships(rows, version):
    """Each user's role and orgs (primary first): users.csv in 1.1, roles.csv in 1.2."""
    role_of, orgs_of = {}, {}
    if version == spec.V1_1:
        for user in rows["users.csv"]:
            role_of[user["sourcedId"]] = user["role"]
            orgs_of[user["sourcedId"]] = _split(user["orgSourcedIds"])
        return role_of, orgs_of
    for row in sorted(rows.get("roles.csv", ()), key=lambda r: r["roleType"] != "primary"):
        role_of.setdefault(row["userSourcedId"], row["role"])
        orgs_of.setdefault(row["userSourcedId"], []).append(row["orgSourcedId"])
    return role_of, orgs_of


def _allocate(total, weights, minimum):
    """`total` split in proportion to `weights` (largest remainder), each share at least
    `minimum` when the total allows."""
    base = min(minimum, total // len(weights))
    rest = total - base * len(weights)
    weight_sum = sum(weights) or 1
    exact = [rest * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: rest - sum(shares)]:
        shares[i] += 1
    return [base + share for share in shares]


def _name(rng):
    middle = rng.choice(_GIVEN) if rng.random() < 0.1 else ""
    return rng.choice(_GIVEN), rng.choice(_FAMILY), middle


@functools.cache
def _slug(name):
    folded = unicodedata.normalize("NFKD", name.lower().translate(_ASCII))
    return "".join(ch for ch in folded if "a" <= ch <= "z")


def _username(given, family, serial):
    # Names have no digits, so the serial alone keeps usernames unique.
    return f"{_slug(given)}.{_slug(family)}{serial}"


def _records(file_rows, columns):
    get = itemgetter(*columns)
    try:
        return [get(row) for row in file_rows]
    except KeyError:
        return [[row.get(column, "") for column in columns] for row in file_rows]


def _csv_bytes(header, records, bom, crlf):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(records)
    data = buffer.getvalue().encode()
    return codecs.BOM_UTF8 + data if bom else data


def _number(value):
    """The number a username or student number ends with (0 if none)."""
    match = _TRAILING_NUMBER.search(value)
    return int(match[0]) if match else 0


def _stem(name):
    return name.removesuffix(".csv")


def _split(value):
    return [part for part in value.split(",") if part]


def _unique(values):
    return list(dict.fromkeys(values))


def _bool(value):
    return "true" if value else "false"
