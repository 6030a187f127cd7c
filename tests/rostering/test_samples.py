"""The sample OneRoster generator: valid, coherent bundles (the spec's headers, references
that resolve, its vocabularies), the year-later snapshot, and the zip as it reads back.
No database: these are plain rows."""

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter, defaultdict

import pytest

from rostering.oneroster import spec
from rostering.oneroster.samples import (
    ELEMENTARY,
    NEXT_GRADE,
    SECONDARY,
    SampleDistrict,
    bundle_zip,
    next_year,
    sample_rows,
    write_bundle,
)

VERSIONS = pytest.mark.parametrize("version", spec.VERSIONS)
SEXES = {"male", "female", "unspecified", "other"}


def district(version, **kwargs):
    kwargs = {"schools": 4, "students": 300, "teachers": 20, "classes": 60, **kwargs}
    return SampleDistrict(version=version, **kwargs)


def split(value):
    return value.split(",") if value else []


def memberships(rows, version):
    """user sourcedId -> list of (role, org), primary first."""
    found = defaultdict(list)
    if version == spec.V1_1:
        for user in rows["users.csv"]:
            found[user["sourcedId"]] += [
                (user["role"], org) for org in split(user["orgSourcedIds"])
            ]
    else:
        for role in sorted(rows["roles.csv"], key=lambda r: r["roleType"] != "primary"):
            found[role["userSourcedId"]].append((role["role"], role["orgSourcedId"]))
    return found


def by_role(rows, version, role):
    return {uid for uid, roles in memberships(rows, version).items() if roles[0][0] == role}


def students_of(rows, version):
    ids = by_role(rows, version, "student")
    return {u["sourcedId"]: u for u in rows["users.csv"] if u["sourcedId"] in ids}


def problems(rows, version):
    """Everything wrong with a bundle's rows: duplicate ids, blank required fields, references
    that do not resolve, values outside the spec's vocabularies, dates that are not dates."""
    found = []
    ids = {name: [row["sourcedId"] for row in file_rows] for name, file_rows in rows.items()}
    for name, values in ids.items():
        found += [f"{name}: duplicate {sid}" for sid, n in Counter(values).items() if n > 1]
    orgs, sessions = set(ids["orgs.csv"]), set(ids["academicSessions.csv"])
    courses, users = set(ids["courses.csv"]), set(ids["users.csv"])
    class_school = {c["sourcedId"]: c["schoolSourcedId"] for c in rows["classes.csv"]}
    grades = set(spec.GRADES)

    def values(row, column, many):
        return split(row[column]) if many else [row[column]]

    def refers(file, column, known, *, many=False):
        for row in rows.get(file, ()):
            for value in values(row, column, many):
                if value and value not in known:
                    found.append(f"{file} {row['sourcedId']}: {column} {value} does not resolve")

    def allowed(file, column, vocabulary, *, many=False):
        for row in rows.get(file, ()):
            for value in values(row, column, many):
                if value not in vocabulary:
                    found.append(f"{file} {row['sourcedId']}: {column} {value!r} is not allowed")

    def dates(file, *columns):
        for row in rows.get(file, ()):
            for column in columns:
                if row[column]:
                    dt.date.fromisoformat(row[column])

    for name, file_rows in rows.items():
        required = list(spec.REQUIRED[name])
        if (name, version) == ("users.csv", spec.V1_1):
            required += spec.REQUIRED_V1_1_USERS
        for row in file_rows:
            where = f"{name} {row['sourcedId']}"
            if list(row) != spec.COLUMNS[version][name]:
                found.append(f"{where}: columns {list(row)}")
            if row["status"] or row["dateLastModified"]:
                found.append(f"{where}: status or dateLastModified in a bulk row")
            found += [f"{where}: blank {column}" for column in required if not row[column]]
            if not all(isinstance(value, str) for value in row.values()):
                found.append(f"{where}: a value is not a string")

    refers("orgs.csv", "parentSourcedId", orgs)
    allowed("orgs.csv", "type", spec.ORG_TYPES)
    refers("academicSessions.csv", "parentSourcedId", sessions)
    allowed("academicSessions.csv", "type", spec.SESSION_TYPES)
    dates("academicSessions.csv", "startDate", "endDate")
    refers("courses.csv", "schoolYearSourcedId", sessions)
    refers("courses.csv", "orgSourcedId", orgs)
    allowed("courses.csv", "grades", grades, many=True)
    refers("classes.csv", "courseSourcedId", courses)
    refers("classes.csv", "schoolSourcedId", orgs)
    refers("classes.csv", "termSourcedIds", sessions, many=True)
    allowed("classes.csv", "classType", spec.CLASS_TYPES)
    allowed("classes.csv", "grades", grades, many=True)
    refers("users.csv", "agentSourcedIds", users, many=True)
    allowed("users.csv", "enabledUser", spec.BOOLEANS)
    allowed("users.csv", "grades", grades, many=True)
    if version == spec.V1_1:
        refers("users.csv", "orgSourcedIds", orgs, many=True)
        allowed("users.csv", "role", spec.USER_ROLES[version])
    else:
        refers("users.csv", "primaryOrgSourcedId", orgs)
        refers("roles.csv", "userSourcedId", users)
        refers("roles.csv", "orgSourcedId", orgs)
        allowed("roles.csv", "roleType", spec.ROLE_TYPES)
        allowed("roles.csv", "role", spec.USER_ROLES[version])
    refers("enrollments.csv", "classSourcedId", class_school)
    refers("enrollments.csv", "userSourcedId", users)
    allowed("enrollments.csv", "role", spec.ENROLLMENT_ROLES)
    dates("enrollments.csv", "beginDate", "endDate")
    for row in rows["enrollments.csv"]:
        if class_school.get(row["classSourcedId"]) != row["schoolSourcedId"]:
            found.append(f"enrollment {row['sourcedId']}: school is not the class's school")
        if row["primary"] not in (spec.BOOLEANS if row["role"] == "teacher" else {""}):
            found.append(f"enrollment {row['sourcedId']}: primary {row['primary']!r}")
    refers("demographics.csv", "sourcedId", users)
    allowed("demographics.csv", "sex", SEXES)
    dates("demographics.csv", "birthDate")
    return found


def read_zip(data):
    """(names in the zip, manifest as a dict, rows per CSV file) as a reader would see them."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    tables = {}
    for name, raw in files.items():
        with io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="") as text:
            tables[name] = list(csv.DictReader(text))
    manifest = {row["propertyName"]: row["value"] for row in tables.pop("manifest.csv")}
    return names, manifest, tables


# sample_rows


@VERSIONS
def test_every_file_has_every_spec_column_in_spec_order(version):
    rows = sample_rows(district(version, with_demographics=True))

    expected = {"orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv"}
    expected |= {"enrollments.csv", "demographics.csv"}
    assert set(rows) == expected | ({"roles.csv"} if version == spec.V1_2 else set())
    for name, file_rows in rows.items():
        assert file_rows, name
        assert all(list(row) == spec.COLUMNS[version][name] for row in file_rows), name


@VERSIONS
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"with_demographics": True, "shared_email_pairs": 5},
        {"schools": 1, "students": 50, "teachers": 3, "classes": 5},
        {"schools": 5, "students": 40, "teachers": 2, "classes": 5, "enrollments_per_student": 6},
        {"schools": 3, "students": 0, "guardians_per_student": 0},
    ],
)
def test_references_resolve_ids_are_unique_and_values_are_in_the_vocabularies(version, kwargs):
    rows = sample_rows(district(version, **kwargs))

    assert problems(rows, version) == []


def test_the_checker_notices_what_a_broken_bundle_gets_wrong():
    rows = sample_rows(district(spec.V1_1))
    rows["enrollments.csv"][0]["classSourcedId"] = "cls-missing"
    rows["users.csv"][0]["role"] = "principal"  # a 1.2 role
    rows["classes.csv"][0]["grades"] = "5"
    rows["orgs.csv"].append(dict(rows["orgs.csv"][1]))

    assert len(problems(rows, spec.V1_1)) == 5  # the enrollment's school no longer matches


def test_defaults_make_a_valid_small_district():
    rows = sample_rows(SampleDistrict())

    assert problems(rows, spec.V1_1) == []
    assert len(students_of(rows, spec.V1_1)) == 40
    assert len(rows["classes.csv"]) == 8


@VERSIONS
def test_same_seed_gives_same_rows_and_another_seed_other_rows(version):
    first = sample_rows(district(version, with_demographics=True, shared_email_pairs=2))
    again = sample_rows(district(version, with_demographics=True, shared_email_pairs=2))
    other = sample_rows(district(version, with_demographics=True, shared_email_pairs=2, seed=7))

    assert first == again
    assert first["users.csv"] != other["users.csv"]
    assert bundle_zip(first, version=version) == bundle_zip(again, version=version)


def test_one_seed_gives_the_same_people_in_both_versions_plus_the_district_admin():
    v11 = sample_rows(district(spec.V1_1))
    v12 = sample_rows(district(spec.V1_2))

    names = {u["sourcedId"]: (u["username"], u["givenName"]) for u in v11["users.csv"]}
    names_12 = {u["sourcedId"]: (u["username"], u["givenName"]) for u in v12["users.csv"]}
    assert names_12.pop("adm-district") == ("district.admin", "Morgan")
    assert names_12 == names
    assert v11["enrollments.csv"] == v12["enrollments.csv"]
    assert memberships(v11, spec.V1_1) == {
        uid: [
            ("administrator" if role.endswith("Administrator") else role, org)
            for role, org in roles
        ]
        for uid, roles in memberships(v12, spec.V1_2).items()
        if uid != "adm-district"
    }


@VERSIONS
def test_counts_follow_the_district(version):
    d = district(version, guardians_per_student=0.5, admins=2)
    rows = sample_rows(d)

    roles = Counter(roles[0][0] for roles in memberships(rows, version).values())
    assert roles["student"] == 300
    assert roles["teacher"] == 20
    if version == spec.V1_1:
        assert roles["administrator"] == 2
    else:
        assert roles["siteAdministrator"] == 2
        district_admin = memberships(rows, version)["adm-district"]
        assert district_admin == [("districtAdministrator", "org-district")]
    assert len(rows["classes.csv"]) == 60
    assert [o["type"] for o in rows["orgs.csv"]] == ["district"] + ["school"] * 4
    assert [o["sourcedId"] for o in rows["orgs.csv"]][:2] == ["org-district", "org-sch-01"]
    assert all(o["parentSourcedId"] == "org-district" for o in rows["orgs.csv"][1:])
    with_guardian = [s for s in students_of(rows, version).values() if s["agentSourcedIds"]]
    assert len(with_guardian) == 150


@VERSIONS
def test_students_are_in_distinct_classes_of_their_school_and_grade(version):
    rows = sample_rows(district(version, classes=160, enrollments_per_student=4))

    school_of = {uid: roles[0][1] for uid, roles in memberships(rows, version).items()}
    classes = {c["sourcedId"]: c for c in rows["classes.csv"]}
    per_student = defaultdict(list)
    for e in rows["enrollments.csv"]:
        if e["role"] == "student":
            per_student[e["userSourcedId"]].append(e["classSourcedId"])
    students = students_of(rows, version)
    assert set(per_student) == set(students)
    for uid, class_ids in per_student.items():
        assert len(set(class_ids)) == len(class_ids) == 4
        assert {classes[c]["schoolSourcedId"] for c in class_ids} == {school_of[uid]}
        assert all(students[uid]["grades"] in split(classes[c]["grades"]) for c in class_ids)


def test_a_school_with_few_classes_tops_students_up_from_its_other_grades():
    rows = sample_rows(SampleDistrict(schools=2, classes=8, enrollments_per_student=4))

    classes = {c["sourcedId"]: c for c in rows["classes.csv"]}
    per_student = defaultdict(set)
    for e in rows["enrollments.csv"]:
        if e["role"] == "student":
            per_student[e["userSourcedId"]].add(e["classSourcedId"])
    users = {u["sourcedId"]: u for u in rows["users.csv"]}
    for uid, class_ids in per_student.items():
        assert len(class_ids) == 4
        assert {classes[c]["schoolSourcedId"] for c in class_ids} == {users[uid]["orgSourcedIds"]}
        assert any(users[uid]["grades"] in split(classes[c]["grades"]) for c in class_ids)


@VERSIONS
def test_every_class_has_one_primary_teacher_and_some_a_co_teacher(version):
    rows = sample_rows(district(version))

    primary = Counter()
    co = Counter()
    for e in rows["enrollments.csv"]:
        if e["role"] == "teacher":
            (primary if e["primary"] == "true" else co)[e["classSourcedId"]] += 1
    assert primary == Counter({c["sourcedId"]: 1 for c in rows["classes.csv"]})
    assert 0 < len(co) < len(rows["classes.csv"])
    teacher_orgs = {
        uid: {org for _, org in roles}
        for uid, roles in memberships(rows, version).items()
        if roles[0][0] == "teacher"
    }
    for e in rows["enrollments.csv"]:
        if e["role"] == "teacher":
            assert e["schoolSourcedId"] in teacher_orgs[e["userSourcedId"]]


def test_a_teacher_at_two_schools_has_a_primary_and_a_secondary_role_in_1_2():
    rows = sample_rows(district(spec.V1_2, teachers=100, schools=6, classes=120))

    roles = defaultdict(list)
    for row in rows["roles.csv"]:
        roles[row["userSourcedId"]].append((row["roleType"], row["role"], row["orgSourcedId"]))
    two_schools = [r for uid, r in roles.items() if uid.startswith("tch-") and len(r) == 2]
    assert two_schools
    for (first_type, _, first_org), (second_type, role, second_org) in two_schools:
        assert (first_type, second_type, role) == ("primary", "secondary", "teacher")
        assert first_org != second_org
    users = {u["sourcedId"]: u for u in rows["users.csv"]}
    for uid, user_roles in roles.items():
        assert [t for t, _, _ in user_roles].count("primary") == 1
        primary_org = next(org for t, _, org in user_roles if t == "primary")
        assert users[uid]["primaryOrgSourcedId"] == primary_org


@VERSIONS
def test_students_and_guardians_link_both_ways_and_guardians_belong_to_their_childrens_schools(
    version,
):
    rows = sample_rows(district(version, students=400))

    users = {u["sourcedId"]: u for u in rows["users.csv"]}
    found = memberships(rows, version)
    guardians = [u for uid, u in users.items() if found[uid][0][0] in {"parent", "guardian"}]
    assert {found[g["sourcedId"]][0][0] for g in guardians} == {"parent", "guardian"}
    assert any(len(split(g["agentSourcedIds"])) == 2 for g in guardians)  # siblings
    for guardian in guardians:
        children = split(guardian["agentSourcedIds"])
        assert children
        for child in children:
            assert split(users[child]["agentSourcedIds"]) == [guardian["sourcedId"]]
        child_schools = {found[child][0][1] for child in children}
        assert {org for _, org in found[guardian["sourcedId"]]} == child_schools


@VERSIONS
def test_students_have_one_two_character_grade_and_schools_teach_bands(version):
    rows = sample_rows(district(version, schools=4, students=600))

    school_grades = defaultdict(set)
    found = memberships(rows, version)
    for uid, student in students_of(rows, version).items():
        assert re.fullmatch(r"KG|0[1-9]|1[0-2]", student["grades"])
        school_grades[found[uid][0][1]].add(student["grades"])
    elementary = set(ELEMENTARY)
    assert sorted(school_grades) == ["org-sch-01", "org-sch-02", "org-sch-03", "org-sch-04"]
    assert school_grades["org-sch-01"] == school_grades["org-sch-02"] == elementary
    assert school_grades["org-sch-03"] == school_grades["org-sch-04"] == set(SECONDARY)


def test_names_are_varied_and_usernames_unique():
    rows = sample_rows(district(spec.V1_1, students=2000, teachers=50, classes=80))

    users = rows["users.csv"]
    names = {u["givenName"] for u in users} | {u["familyName"] for u in users}
    assert "O'Brien" in names
    assert any(re.search(r"[^\x00-\x7f]", name) for name in names)
    usernames = [u["username"] for u in users]
    assert len(set(usernames)) == len(usernames)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d+", name) for name in usernames)
    emails = [u["email"] for u in users if u["email"]]
    assert len(set(emails)) == len(emails)
    students = [u for u in users if u["role"] == "student"]
    assert 0 < sum(not s["email"] for s in students) < len(students) / 4
    assert 0 < sum(s["enabledUser"] == "false" for s in students) < len(students) / 20
    assert all(u["email"] for u in users if u["role"] in {"teacher", "administrator"})
    assert all(re.fullmatch(r"S\d{6}", s["identifier"]) for s in students)


@pytest.mark.parametrize("pairs", [1, 4])
def test_shared_email_pairs_give_exactly_that_many_duplicate_guardian_emails(pairs):
    rows = sample_rows(district(spec.V1_1, shared_email_pairs=pairs))

    counts = Counter(u["email"] for u in rows["users.csv"] if u["email"])
    duplicated = {email: n for email, n in counts.items() if n > 1}
    assert sorted(duplicated.values()) == [2] * pairs
    owners = [u for u in rows["users.csv"] if u["email"] in duplicated]
    assert {u["role"] for u in owners} <= {"parent", "guardian"}


def test_more_shared_email_pairs_than_guardians_is_refused():
    with pytest.raises(ValueError, match="shared email pairs"):
        sample_rows(SampleDistrict(students=4, guardians_per_student=0.5, shared_email_pairs=2))


def test_demographics_describe_every_student_with_a_plausible_birth_date():
    rows = sample_rows(district(spec.V1_1, with_demographics=True, students=500))

    students = students_of(rows, spec.V1_1)
    demographics = {row["sourcedId"]: row for row in rows["demographics.csv"]}
    assert set(demographics) == set(students)
    assert {row["sex"] for row in demographics.values()} >= {"male", "female"}
    for uid, row in demographics.items():
        grade = students[uid]["grades"]
        level = 0 if grade == "KG" else int(grade)
        age_on_1_sept = 2025 - dt.date.fromisoformat(row["birthDate"]).year
        assert level + 4 <= age_on_1_sept <= level + 6


@VERSIONS
def test_classes_reference_terms_of_the_year_and_courses_of_their_school(version):
    rows = sample_rows(district(version, school_year=2031))

    year, *terms = rows["academicSessions.csv"]
    assert (year["sourcedId"], year["title"], year["type"]) == (
        "as-2031",
        "2030-2031",
        "schoolYear",
    )
    assert (year["startDate"], year["endDate"]) == ("2030-08-15", "2031-06-30")
    assert year["schoolYear"] == "2031"
    assert [(t["type"], t["parentSourcedId"]) for t in terms] == [("term", "as-2031")] * 2
    term_ids = {t["sourcedId"] for t in terms}
    course_org = {c["sourcedId"]: c["orgSourcedId"] for c in rows["courses.csv"]}
    assert {c["schoolYearSourcedId"] for c in rows["courses.csv"]} == {"as-2031"}
    for row in rows["classes.csv"]:
        assert set(split(row["termSourcedIds"])) <= term_ids
        assert course_org[row["courseSourcedId"]] == row["schoolSourcedId"]
    assert {c["classType"] for c in rows["classes.csv"]} == {"homeroom", "scheduled"}
    assert {e["beginDate"] for e in rows["enrollments.csv"]} == {"2030-08-15"}


# next_year


@VERSIONS
def test_next_year_promotes_every_remaining_student_by_one_grade(version):
    before = sample_rows(district(version, students=1000, with_demographics=True))
    after = next_year(before, version=version, leavers=0.1, seed=3)

    old, new = students_of(before, version), students_of(after, version)
    assert set(new) < set(old)
    assert all(new[uid]["grades"] == NEXT_GRADE[old[uid]["grades"]] for uid in new)
    assert not {uid for uid, s in old.items() if s["grades"] == "12"} & set(new)
    assert len(old) - len(new) == pytest.approx(100, abs=1)
    assert problems(after, version) == []


@VERSIONS
def test_next_year_moves_students_leaving_elementary_to_a_high_school(version):
    before = sample_rows(district(version, students=1000))
    after = next_year(before, version=version)

    old_school = {uid: roles[0][1] for uid, roles in memberships(before, version).items()}
    new_school = {uid: roles[0][1] for uid, roles in memberships(after, version).items()}
    high_schools = {"org-sch-03", "org-sch-04"}
    students = students_of(after, version)
    movers = [uid for uid, s in students.items() if s["grades"] == "06"]
    assert movers
    for uid in movers:
        assert old_school[uid] not in high_schools
        assert new_school[uid] in high_schools
    enrolled_at = defaultdict(set)
    for e in after["enrollments.csv"]:
        enrolled_at[e["userSourcedId"]].add(e["schoolSourcedId"])
    assert all(enrolled_at[uid] == {new_school[uid]} for uid in students)


@VERSIONS
def test_next_year_takes_leavers_from_the_top_grade_first(version):
    before = sample_rows(district(version, students=1300))
    seniors = {uid for uid, s in students_of(before, version).items() if s["grades"] == "12"}

    few = next_year(before, version=version, leavers=0.01)
    many = next_year(before, version=version, leavers=0.3)

    assert len(students_of(few, version)) == 1300 - len(seniors)
    assert len(students_of(many, version)) == 1300 - 390
    assert not seniors & set(students_of(many, version))


@VERSIONS
def test_next_year_renames_and_replaces_classes_and_moves_their_enrollments(version):
    before = sample_rows(district(version, classes=80))
    after = next_year(before, version=version, class_changes=0.1, leavers=0)

    old = {c["sourcedId"]: c for c in before["classes.csv"]}
    new = {c["sourcedId"]: c for c in after["classes.csv"]}
    assert len(new) == len(old)
    renamed = [cid for cid in set(old) & set(new) if old[cid]["title"] != new[cid]["title"]]
    assert len(renamed) == 8
    gone, added = set(old) - set(new), set(new) - set(old)
    assert len(gone) == len(added) == 8
    assert all(re.fullmatch(r"cls-2027-\d{5}", cid) for cid in added)

    # A replaced class keeps its place in classes.csv; its people follow it, except students
    # who left or changed school.
    students = students_of(after, version)
    stayed = {uid for uid in students if students[uid]["grades"] != "06"}
    stayed |= by_role(after, version, "teacher")

    def roster(rows, class_id):
        return sorted(
            (e["userSourcedId"], e["role"], e["primary"])
            for e in rows["enrollments.csv"]
            if e["classSourcedId"] == class_id and e["userSourcedId"] in stayed
        )

    for was, now in zip(before["classes.csv"], after["classes.csv"], strict=True):
        if was["sourcedId"] in gone:
            assert now["sourcedId"] in added
            assert roster(after, now["sourcedId"]) == roster(before, was["sourcedId"])
            assert roster(after, now["sourcedId"])
    assert not {e["classSourcedId"] for e in after["enrollments.csv"]} & gone
    old_ids = {e["sourcedId"] for e in before["enrollments.csv"]}
    moved = [e for e in after["enrollments.csv"] if e["classSourcedId"] in added]
    assert moved and not {e["sourcedId"] for e in moved} & old_ids


@VERSIONS
def test_next_year_keeps_teachers_and_rolls_the_school_year_over(version):
    before = sample_rows(district(version))
    after = next_year(before, version=version)

    assert by_role(after, version, "teacher") == by_role(before, version, "teacher")
    teachers = by_role(before, version, "teacher")
    assert [u for u in after["users.csv"] if u["sourcedId"] in teachers] == [
        u for u in before["users.csv"] if u["sourcedId"] in teachers
    ]
    sessions = after["academicSessions.csv"]
    assert [(s["sourcedId"], s["title"], s["schoolYear"]) for s in sessions] == [
        ("as-2027", "2026-2027", "2027"),
        ("as-2027-t1", "Fall 2026", "2027"),
        ("as-2027-t2", "Spring 2027", "2027"),
    ]
    assert (sessions[0]["startDate"], sessions[0]["endDate"]) == ("2026-08-15", "2027-06-30")
    assert {c["schoolYearSourcedId"] for c in after["courses.csv"]} == {"as-2027"}
    assert {e["beginDate"] for e in after["enrollments.csv"]} == {"2026-08-15"}
    assert {e["endDate"] for e in after["enrollments.csv"]} == {"2027-06-30"}


@VERSIONS
def test_next_year_removes_guardians_left_without_children(version):
    before = sample_rows(district(version, students=600))
    after = next_year(before, version=version, leavers=0.3)

    users = {u["sourcedId"]: u for u in after["users.csv"]}
    remaining = set(students_of(after, version))
    guardians = by_role(after, version, "parent") | by_role(after, version, "guardian")
    assert guardians
    for uid in guardians:
        assert set(split(users[uid]["agentSourcedIds"])) <= remaining
        assert split(users[uid]["agentSourcedIds"])
    guardians_before = by_role(before, version, "parent") | by_role(before, version, "guardian")
    assert len(guardians) < len(guardians_before)
    assert problems(after, version) == []


@VERSIONS
def test_next_year_brings_new_students_into_the_lowest_grades(version):
    before = sample_rows(district(version, students=1000, with_demographics=True))
    after = next_year(before, version=version, new_students=0.1)

    new = {uid: s for uid, s in students_of(after, version).items() if uid.startswith("stu-2027-")}
    assert len(new) == 100
    assert {s["grades"] for s in new.values()} == {"KG", "01"}
    enrolled = Counter(e["userSourcedId"] for e in after["enrollments.csv"])
    assert {uid: enrolled[uid] for uid in new} == dict.fromkeys(new, 4)
    assert set(new) <= {row["sourcedId"] for row in after["demographics.csv"]}
    assert problems(after, version) == []


@VERSIONS
def test_next_year_is_deterministic_and_leaves_its_input_alone(version):
    before = sample_rows(district(version))
    copy = {name: [dict(row) for row in file_rows] for name, file_rows in before.items()}

    first = next_year(before, version=version, seed=5, new_students=0.05)
    again = next_year(before, version=version, seed=5, new_students=0.05)
    other = next_year(before, version=version, seed=6, new_students=0.05)

    assert first == again
    assert first != other
    assert before == copy


def test_two_years_on_is_still_valid():
    rows = sample_rows(district(spec.V1_2, with_demographics=True))
    for seed in (1, 2):
        rows = next_year(rows, version=spec.V1_2, seed=seed, new_students=0.1)

    assert rows["academicSessions.csv"][0]["sourcedId"] == "as-2028"
    assert problems(rows, spec.V1_2) == []


# bundle_zip


@VERSIONS
def test_bundle_reads_back_as_the_same_rows(version, tmp_path):
    rows = sample_rows(district(version, with_demographics=True))

    names, manifest, tables = read_zip(bundle_zip(rows, version=version))

    assert all("/" not in name for name in names)
    assert names[0] == "manifest.csv"
    assert tables == rows
    write_bundle(tmp_path / "bundle.zip", rows, version=version)
    assert (tmp_path / "bundle.zip").read_bytes() == bundle_zip(rows, version=version)


@VERSIONS
def test_headers_are_every_spec_column_in_spec_order_even_when_empty(version):
    rows = sample_rows(district(version))
    rows["demographics.csv"] = []

    with zipfile.ZipFile(io.BytesIO(bundle_zip(rows, version=version))) as archive:
        for name in rows:
            header = archive.read(name).decode().splitlines()[0]
            assert header == ",".join(spec.COLUMNS[version][name])


@VERSIONS
def test_manifest_says_bulk_for_supplied_files_and_absent_for_the_rest(version):
    rows = sample_rows(district(version))

    _, manifest, _ = read_zip(bundle_zip(rows, version=version))

    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == version
    assert manifest["source.systemName"] == "Rollbook samples"
    modes = {key.removeprefix("file."): v for key, v in manifest.items() if key.startswith("file.")}
    supplied = {name.removesuffix(".csv") for name in rows}
    assert {name for name, mode in modes.items() if mode == "bulk"} == supplied
    assert modes["demographics"] == modes["lineItems"] == modes["results"] == "absent"
    assert set(modes.values()) == {"bulk", "absent"}
    assert ("roles" in modes, "userProfiles" in modes) == ((version == spec.V1_2),) * 2


def test_modes_override_the_manifest_and_omitted_files_keep_their_row():
    rows = sample_rows(district(spec.V1_1))

    data = bundle_zip(
        rows,
        version=spec.V1_1,
        modes={"users.csv": "delta", "enrollments": "absent", "demographics": "bulk"},
        omit_files=("classes.csv", "enrollments"),
    )

    names, manifest, tables = read_zip(data)
    assert manifest["file.users"] == "delta"
    assert manifest["file.enrollments"] == "absent"
    assert manifest["file.demographics"] == "bulk"  # said, but not there
    assert manifest["file.classes"] == "bulk"  # said, but left out
    assert "classes.csv" not in names
    assert "enrollments.csv" not in names
    assert "demographics.csv" not in names
    assert tables["users.csv"] == rows["users.csv"]


def test_extra_files_are_added_or_replace_generated_ones():
    rows = sample_rows(district(spec.V1_1))

    data = bundle_zip(
        rows,
        version=spec.V1_1,
        extra_files={"users.csv": b"sourcedId\nbroken\n", "notes/readme.txt": b"hello"},
    )

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("users.csv") == b"sourcedId\nbroken\n"
        assert archive.read("notes/readme.txt") == b"hello"
        assert archive.namelist().count("users.csv") == 1


def test_a_file_the_version_does_not_have_is_refused():
    rows = sample_rows(district(spec.V1_2))

    with pytest.raises(ValueError, match="roles.csv"):
        bundle_zip(rows, version=spec.V1_1)


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_bom_and_crlf_options(bom, crlf):
    rows = sample_rows(district(spec.V1_1))

    data = bundle_zip(rows, version=spec.V1_1, bom=bom, crlf=crlf)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in ("manifest.csv", "users.csv", "orgs.csv"):
            raw = archive.read(name)
            assert raw.startswith(b"\xef\xbb\xbf") == bom
            assert (b"\r\n" in raw) == crlf
            assert raw.count(b"\n") == raw.count(b"\r\n") if crlf else b"\r" not in raw
    assert read_zip(data)[2] == rows


def test_lists_are_quoted_and_other_values_only_where_needed():
    rows = sample_rows(district(spec.V1_1, students=400))

    with zipfile.ZipFile(io.BytesIO(bundle_zip(rows, version=spec.V1_1))) as archive:
        classes = archive.read("classes.csv").decode()
        users = archive.read("users.csv").decode()
    assert ',"as-2026-t1,as-2026-t2",' in classes
    assert re.search(r',"stu-\d{6},stu-\d{6}",', users)  # a guardian of siblings
    assert "O'Brien" in users and '"O\'Brien"' not in users
    assert '"' not in users.splitlines()[1]  # an administrator: nothing needs quotes
