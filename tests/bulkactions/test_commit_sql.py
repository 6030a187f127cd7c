"""On PostgreSQL an import's new accounts are written by one SQL statement per batch
(commit_sql); the Python path stays for SQLite, updates and late clashes. Both must
write the same accounts, school links, enrolments and audit events."""

import pytest
from django.db import connection

from accounts.models import (
    AuditEvent,
    Role,
    User,
    account_search_text,
    account_search_text_sql,
)
from bulkactions.importing import commit as commit_module
from bulkactions.importing import commit_sql
from bulkactions.models import ImportStatus, RowOutcome
from schools.models import Enrollment
from tests.bulkactions.conftest import rows_by_number
from tests.factories import ClassroomFactory, UserFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL path runs on PostgreSQL only"
)

HEADER = "First name,Last name,Email,Year,School,Classes,SIS id,Password"
ROWS = [
    "Zoë,Núñez,zoe.nunez@alpha.example,Year 7,Alpha High,7A,S-001,",
    "Ørjan,Østergård,orjan@alpha.example,Year 8,Beta Academy,,s-002,",
    "Hans,Straße,,Year 9,Alpha High; Beta Academy,7A; 8B,,",
    "Nguyễn,Thị Minh Khai,khai@alpha.example,Year 9,Beta Academy,,S-004,Orchard-Lamp-42!",
    "Anne-Marie,O'Brien Smith,anne@alpha.example,Year 7,BETA,8B,,",
    "Jürgen,Müller,jurgen@alpha.example,Year 7,Alpha High,,,Harbour-Violet-17?",
    "Lena,Fischer,lena@alpha.example,Year 8,BETA; Alpha High,8B; 7A,S-007,",
]
TIMES = ("created_at", "updated_at", "invited_at", "password_changed_at")


def _students(district) -> dict[str, dict]:
    """Each new student's columns, with what differs by nature between two runs (ids,
    times, hash salts) reduced to what a reader compares."""
    found = {}
    for user in User.objects.filter(district=district, role=Role.STUDENT):
        columns = {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}
        del columns["id"]
        for name in TIMES:
            columns[name] = columns[name] is not None
        # A hash (its salt differs) or the unusable mark, "!" and random letters.
        password = columns["password"]
        columns["password"] = password.split("$")[0] if "$" in password else password[:1]
        columns["schools"] = sorted(user.schools.values_list("name", flat=True))
        columns["classes"] = sorted(
            Enrollment.objects.filter(student=user).values_list("classroom__name", flat=True)
        )
        event = AuditEvent.objects.get(action="accounts.user.created", target_id=user.pk)
        after = dict(event.after)
        assert after.pop("import")
        columns["audit"] = (
            event.actor_id,
            event.actor_label,
            event.target_type,
            event.target_label,
            event.before,
            after,
        )
        found[user.username] = columns
    return found


def _import(run_import, commit, text, *, in_database, monkeypatch, **options):
    monkeypatch.setattr(commit_module, "CREATE_IN_DATABASE", in_database)
    job = commit(run_import(text, **options))
    assert job.status == ImportStatus.DONE, job.failure
    return job


@pytest.mark.parametrize("password_mode", ["email", "set"])
def test_sql_and_python_paths_write_the_same_accounts(
    run_import, commit, district, school, second_school, monkeypatch, password_mode
):
    ClassroomFactory(district=district, school=second_school, name="8B")
    rows = ROWS if password_mode == "set" else [row for row in ROWS if "@" in row]
    text = "\n".join([HEADER, *rows]) + "\n"

    sql_job = _import(
        run_import, commit, text, in_database=True, monkeypatch=monkeypatch,
        password_mode=password_mode,
    )  # fmt: skip
    by_sql = _students(district)
    assert len(by_sql) == len(rows) == sql_job.created_count
    _assert_every_row_created(sql_job)
    User.objects.filter(district=district, role=Role.STUDENT).delete()
    AuditEvent.objects.filter(action="accounts.user.created").delete()
    python_job = _import(
        run_import, commit, text, in_database=False, monkeypatch=monkeypatch,
        password_mode=password_mode,
    )  # fmt: skip
    by_python = _students(district)

    assert by_sql == by_python
    zoe = by_sql["zoe.nunez"]
    assert zoe["search_text"] == "zoe nunez zoe.nunez zoe.nunez s-001"  # no domain
    assert (zoe["school_names"], zoe["classes"], zoe["year_ordinal"]) == ("Alpha High", ["7A"], 7)
    lena = by_sql["lena.fischer"]
    assert (lena["schools"], lena["classes"]) == (["Alpha High", "Beta Academy"], ["7A", "8B"])
    assert lena["school_names"] == "Alpha High; Beta Academy"
    _assert_every_row_created(python_job)


def _assert_every_row_created(job):
    rows = rows_by_number(job).values()
    assert {row.outcome for row in rows} == {RowOutcome.CREATED}
    assert {row.user.email for row in rows} == {row.values["email"] for row in rows}


@pytest.mark.parametrize(
    "parts",
    [
        ("Zoë", "Núñez", "zoe.nunez", "Zoe.Nunez@Alpha.example", "S-001"),
        ("Ørjan", "Østergård", "", "", ""),
        ("Hans", "Straße", "hans.strasse", "", ""),
        ("Nguyễn", "Thị  Minh", "nguyen", "", "x\ty"),
        ("ﬁona", "Ⅻ", "", "", ""),  # compatibility forms: the ligature, a Roman numeral
        ("", "", "", "", ""),
        ("Ana", "Lee", "ana", "a@b@c.example", ""),  # the domain is what follows the last @
        ("Ana", "Lee", "ana", "ana.lee@", ""),
        ("Ana", "Lee", "ana", "no-domain", ""),
        ("Ana", "Lee  Smith", "ana", "", "s\t1\x1c2 "),  # ASCII, with odd whitespace
        ("  Bo", "Li", "", "", ""),
    ],
)
def test_search_text_in_sql_is_account_search_text(db, parts):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {account_search_text_sql('a', 'b', 'c', 'd', 'e')} "  # noqa: S608
            "FROM (SELECT %s::text AS a, %s::text AS b, %s::text AS c, %s::text AS d, "
            "%s::text AS e) AS parts",
            list(parts),
        )
        (text,) = cursor.fetchone()
    assert text == account_search_text(*parts)


def test_an_account_made_while_the_batches_run_fails_only_its_row(
    run_import, commit, district, monkeypatch
):
    text = "\n".join(
        ["First name,Last name,Email,Year,School"]
        + [f"P{i},Lee,p{i}@alpha.example,Year 7,Alpha High" for i in range(4)]
    )
    job = run_import(text + "\n")
    # Made after the check before the batches: only the unique index sees it.
    UserFactory(district=district, role=Role.STUDENT, email="p2@alpha.example")
    monkeypatch.setattr(commit_sql, "clashing_rows", lambda params: [])

    job = commit(job)

    assert (job.status, job.created_count, job.failed_count) == (ImportStatus.DONE, 3, 1)
    rows = rows_by_number(job)
    assert rows[4].outcome == RowOutcome.FAILED
    assert "email" in rows[4].outcome_message
    created = User.objects.filter(district=district, email__in=["p0@alpha.example"])
    assert created.count() == 1
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == 3


def test_ids_of_another_district_in_a_stored_row_link_nothing(
    run_import, commit, district, other_district
):
    """The statement joins schools, classes and year groups within the job's district
    only: a row whose stored ids were changed to another district's gets none of them."""
    from schools.models import Classroom, School, YearGroup
    from tests.factories import SchoolFactory, YearGroupFactory

    foreign_school = SchoolFactory(district=other_district, name="Bravo High")
    foreign_year = YearGroupFactory(district=other_district, ordinal=7, name="Bravo Year 7")
    foreign_class = ClassroomFactory(district=other_district, school=foreign_school, name="B7")
    job = run_import(
        "First name,Last name,Email,Year,School\nAna,Lee,ana@alpha.example,Year 7,Alpha High\n"
    )
    row = job.rows.get()
    row.resolved.update(
        school_ids=[foreign_school.pk],
        classroom_ids=[foreign_class.pk],
        year_group_id=foreign_year.pk,
    )
    row.save(update_fields=["resolved"])

    job = commit(job)

    user = User.objects.get(district=district, email="ana@alpha.example")
    assert job.created_count == 1
    assert (user.year_group_id, user.school_names) == (None, "")
    assert not user.schools.exists()
    assert not Enrollment.objects.filter(student=user).exists()
    assert School.objects.filter(district=other_district).get().members.count() == 0
    assert Classroom.objects.get(pk=foreign_class.pk).enrollments.count() == 0
    assert YearGroup.objects.get(pk=foreign_year.pk).user_set.count() == 0
