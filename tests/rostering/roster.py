"""A small roster the sync tests control row by row: one school, two classes, a teacher,
three students and a guardian, as CSV-shaped rows of OneRoster 1.1 or 1.2."""

import copy

from rostering.oneroster import samples, spec


def _row(version, file, **values):
    return {column: values.get(column, "") for column in spec.COLUMNS[version][file]}


def tiny(version=spec.V1_1) -> dict[str, list[dict]]:
    r = lambda file, **v: _row(version, file, **v)  # noqa: E731
    users = [
        ("t1", "teacher", "tina.teach", "Tina", "Teach", "tina@sis.example", "", ""),
        ("s1", "student", "sam.one", "Sam", "One", "sam@sis.example", "05", "g1"),
        ("s2", "student", "sia.two", "Sia", "Two", "", "05", ""),
        ("s3", "student", "sol.three", "Sol", "Three", "sol@sis.example", "04", ""),
        ("g1", "parent", "gail.one", "Gail", "One", "gail@home.example", "", "s1"),
    ]
    rows = {
        "orgs.csv": [
            r("orgs.csv", sourcedId="org-d", name="Lakeside District", type="district"),
            r(
                "orgs.csv",
                sourcedId="org-s1",
                name="Lakeside Primary",
                type="school",
                identifier="LP",
                parentSourcedId="org-d",
            ),
        ],
        "academicSessions.csv": [
            r(
                "academicSessions.csv",
                sourcedId="as-2026",
                title="2025-2026",
                type="schoolYear",
                startDate="2025-09-01",
                endDate="2026-07-15",
                schoolYear="2026",
            ),
            r(
                "academicSessions.csv",
                sourcedId="as-t1",
                title="Autumn 2025",
                type="term",
                startDate="2025-09-01",
                endDate="2025-12-19",
                parentSourcedId="as-2026",
                schoolYear="2026",
            ),
        ],
        "courses.csv": [
            r("courses.csv", sourcedId="c-math", title="Maths", orgSourcedId="org-s1"),
        ],
        "classes.csv": [
            r(
                "classes.csv",
                sourcedId="cl-1",
                title="Maths 5A",
                classCode="M5A",
                classType="scheduled",
                schoolSourcedId="org-s1",
                termSourcedIds="as-t1",
                courseSourcedId="c-math",
                grades="05",
            ),
            r(
                "classes.csv",
                sourcedId="cl-2",
                title="Maths 4A",
                classCode="M4A",
                classType="scheduled",
                schoolSourcedId="org-s1",
                termSourcedIds="as-t1",
                courseSourcedId="c-math",
                grades="04",
            ),
        ],
        "users.csv": [],
        "enrollments.csv": [],
    }
    for sid, role, username, given, family, email, grade, agents in users:
        values = dict(
            sourcedId=sid,
            enabledUser="true",
            username=username,
            givenName=given,
            familyName=family,
            email=email,
            grades=grade,
            agentSourcedIds=agents,
            identifier=sid.upper(),
        )
        if version == spec.V1_1:
            values.update(role=role, orgSourcedIds="org-s1")
        else:
            values.update(primaryOrgSourcedId="org-s1")
        rows["users.csv"].append(r("users.csv", **values))
        if version == spec.V1_2:
            rows.setdefault("roles.csv", []).append(
                r(
                    "roles.csv",
                    sourcedId=f"role-{sid}",
                    userSourcedId=sid,
                    roleType="primary",
                    role=role,
                    orgSourcedId="org-s1",
                )
            )
    for sid, cls, user, role in (
        ("e1", "cl-1", "t1", "teacher"),
        ("e2", "cl-1", "s1", "student"),
        ("e3", "cl-1", "s2", "student"),
        ("e4", "cl-2", "t1", "teacher"),
        ("e5", "cl-2", "s3", "student"),
    ):
        rows["enrollments.csv"].append(
            r(
                "enrollments.csv",
                sourcedId=sid,
                classSourcedId=cls,
                schoolSourcedId="org-s1",
                userSourcedId=user,
                role=role,
                primary="true" if role == "teacher" else "",
            )
        )
    return rows


def changed(rows, file, sourced_id, **values):
    """A copy of the rows with one record's columns changed."""
    rows = copy.deepcopy(rows)
    for row in rows[file]:
        if row["sourcedId"] == sourced_id:
            row.update(values)
    return rows


def without(rows, file, *sourced_ids):
    rows = copy.deepcopy(rows)
    rows[file] = [row for row in rows[file] if row["sourcedId"] not in sourced_ids]
    if file == "users.csv":
        rows["enrollments.csv"] = [
            row for row in rows["enrollments.csv"] if row["userSourcedId"] not in sourced_ids
        ]
    return rows


def zipped(rows, version=spec.V1_1, **options) -> bytes:
    return samples.bundle_zip(rows, version=version, **options)
