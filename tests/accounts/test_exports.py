"""Exports of students and staff (CSV, XLSX) and the export_users command."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import exports
from accounts.exports import export_filename, users_export
from accounts.models import Role, Source, Status, User
from schools.models import Enrollment
from tests.factories import (
    ClassroomFactory,
    InvitedUserFactory,
    SchoolFactory,
    UserFactory,
    YearGroupFactory,
)

STUDENT_COLUMNS = [
    "Username",
    "First name",
    "Last name",
    "Email",
    "Year group",
    "Schools",
    "Classrooms",
    "Status",
    "Source",
    "SIS ID",
    "Case manager",
    "Last login",
    "Created",
]
STAFF_COLUMNS = [
    "Username",
    "First name",
    "Last name",
    "Email",
    "Role",
    "Schools",
    "Classes taught",
    "Status",
    "Source",
    "SIS ID",
    "Last login",
    "Created",
]
DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_rows(content: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def export(users, kind="students", file_format="csv") -> list[dict]:
    content, _type, _ext = users_export(users=users, kind=kind, file_format=file_format)
    return (csv_rows if file_format == "csv" else xlsx_rows)(content)


def students_of(district):
    return User.objects.filter(district=district, role=Role.STUDENT).order_by("last_name", "id")


def enroll(student, classroom):
    Enrollment.objects.create(district=student.district, classroom=classroom, student=student)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_users", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# The file


def test_csv_has_bom_and_student_columns(student):
    content, content_type, extension = users_export(
        users=students_of(student.district), kind="students", file_format="csv"
    )
    assert content.startswith(b"\xef\xbb\xbfUsername,First name,")
    assert content_type == "text/csv; charset=utf-8"
    assert extension == "csv"
    rows = csv_rows(content)
    assert list(rows[0]) == STUDENT_COLUMNS
    assert rows[0]["Username"] == "sue.student"
    assert rows[0]["Status"] == "Active"
    assert rows[0]["Source"] == "Manual"


def test_student_row_joins_schools_classrooms_year_group_and_case_manager(
    district, school, student, teacher
):
    second = SchoolFactory(district=district, name="Beech Primary")
    student.schools.add(second)
    enroll(student, ClassroomFactory(district=district, school=school, name="Maths 7A"))
    enroll(student, ClassroomFactory(district=district, school=second, name="Art 7"))
    old = ClassroomFactory(district=district, school=school, name="Maths 6A")
    old.archived_at = datetime(2025, 7, 20, tzinfo=UTC)
    old.save()
    enroll(student, old)
    student.year_group = YearGroupFactory(district=district, name="Year 7")
    student.case_manager = teacher
    student.sis_id = "S-0042"
    student.last_login = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    student.created_at = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    student.save()

    [row] = export(students_of(district))

    assert row["Schools"] == "Alpha High; Beech Primary"
    assert row["Classrooms"] == "Art 7; Maths 7A"  # not last year's archived class
    assert row["Year group"] == "Year 7"
    assert row["Case manager"] == "Tom Teacher"
    assert row["SIS ID"] == "S-0042"
    assert row["Last login"] == "2026-03-04T05:06:07Z"
    assert row["Created"] == "2025-09-01T08:00:00Z"


def test_never_signed_in_has_empty_last_login(district):
    InvitedUserFactory(district=district, role=Role.STUDENT, last_login=None)
    [row] = export(students_of(district))
    assert row["Last login"] == ""
    assert row["Status"] == "Invited"
    assert row["Case manager"] == ""


def test_staff_columns_role_label_and_classes_taught(district, school, teacher, district_admin):
    ClassroomFactory(district=district, school=school, name="Science 8").teachers.add(teacher)
    ClassroomFactory(district=district, school=school, name="Biology 9").teachers.add(teacher)
    users = User.objects.filter(district=district).order_by("last_name")

    admin_row, teacher_row = export(users, kind="staff", file_format="xlsx")

    assert list(teacher_row) == STAFF_COLUMNS
    assert admin_row["Role"] == "District admin"
    assert teacher_row["Role"] == "Teacher"
    assert teacher_row["Classes taught"] == "Biology 9; Science 8"
    assert teacher_row["Schools"] == "Alpha High"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("dangerous", DANGEROUS)
def test_cells_that_could_run_as_formulas_are_quoted(district, file_format, dangerous):
    UserFactory(
        district=district,
        role=Role.STUDENT,
        first_name=dangerous,
        last_name=f"{dangerous}x",
        sis_id=dangerous,
        username="mallory",
    )
    [row] = export(students_of(district), file_format=file_format)
    quoted = f"'{dangerous}"
    if file_format == "xlsx":
        quoted = quoted.replace("\r", "\n")  # XML parsers read a stored CR back as LF
    assert row["First name"] == quoted
    assert row["Last name"] == f"{quoted}x"
    assert row["SIS ID"] == quoted
    assert row["Username"] == "mallory"


def test_xlsx_cells_are_text_never_formulas(district):
    UserFactory(district=district, role=Role.STUDENT, first_name='=HYPERLINK("http://x")')
    content, content_type, extension = users_export(
        users=students_of(district), kind="students", file_format="xlsx"
    )
    assert extension == "xlsx"
    assert content_type.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_control_characters_do_not_break_xlsx(district):
    UserFactory(district=district, role=Role.STUDENT, first_name="\x01=cmd", last_name="Ok")
    [row] = export(students_of(district), file_format="xlsx")
    assert row["First name"] == "'=cmd"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_accents_survive(district, file_format):
    UserFactory(district=district, role=Role.STUDENT, first_name="Zoë", last_name="Ångström")
    [row] = export(students_of(district), file_format=file_format)
    assert (row["First name"], row["Last name"]) == ("Zoë", "Ångström")


def test_unknown_format_is_refused(student):
    with pytest.raises(ValueError, match="Unknown export format 'pdf'"):
        users_export(users=students_of(student.district), kind="students", file_format="pdf")


def test_filename_names_district_kind_and_date(district):
    name = export_filename(district, "students", "csv")
    assert name.startswith("alpha-students-20") and name.endswith(".csv")
    assert len(name) == len("alpha-students-2026-11-23.csv")


def make_people(district, school, count):
    """`count` students, each in a class of their own taught by a teacher of their own."""
    year = YearGroupFactory(district=district)
    for _ in range(count):
        teacher = UserFactory(district=district, role=Role.TEACHER)
        student = UserFactory(
            district=district, role=Role.STUDENT, year_group=year, case_manager=teacher
        )
        classroom = ClassroomFactory(district=district, school=school)
        classroom.teachers.add(teacher)
        enroll(student, classroom)
        for person in (teacher, student):
            person.schools.add(school)


def queries_for_export(district, kind):
    users = User.objects.filter(district=district, role__in=exports.LIST_KINDS[kind])
    with CaptureQueriesContext(connection) as captured:
        users_export(users=users, kind=kind, file_format="csv")
    return len(captured)


@pytest.mark.parametrize("kind", ["students", "staff"])
def test_query_count_does_not_grow_with_rows(district, other_district, kind):
    make_people(district, SchoolFactory(district=district), 5)
    make_people(other_district, SchoolFactory(district=other_district), 30)
    few = queries_for_export(district, kind)
    many = queries_for_export(other_district, kind)
    assert few == many == 3  # users, their schools, their classes


def test_rows_stay_right_across_chunks(district, school, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    make_people(district, school, 5)
    rows = export(students_of(district))
    assert len(rows) == 5
    assert all(row["Schools"] == "Alpha High" and row["Classrooms"] for row in rows)
    assert len({row["Classrooms"] for row in rows}) == 5


# The command


def test_command_writes_a_csv_file(tmp_path, student, teacher):
    path = tmp_path / "students.csv"
    out, err = run("--district", "alpha", "--kind", "students", "--output", str(path))
    assert out == ""
    assert f"Exported 1 students to {path}" in err
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [row["Username"] for row in csv_rows(path.read_bytes())] == ["sue.student"]


def test_command_writes_xlsx_when_asked(tmp_path, student, teacher, district_admin):
    path = tmp_path / "staff.xlsx"
    _out, err = run("--district", "alpha", "--kind", "staff", "--output", str(path))
    assert "Exported 2 staff" in err
    assert [row["Username"] for row in xlsx_rows(path.read_bytes())] == [
        "ada.admin",
        "tom.teacher",
    ]


def test_command_prints_csv_to_stdout(student):
    out, err = run("--district", "alpha", "--kind", "students")
    assert err == ""
    assert not out.startswith("\ufeff")  # the BOM is for Excel files, not pipes
    assert [row["Username"] for row in csv.DictReader(io.StringIO(out))] == ["sue.student"]


def test_command_orders_by_last_then_first_name(district):
    for first, last in [("Bo", "Young"), ("Al", "Young"), ("Cy", "Adams")]:
        UserFactory(district=district, role=Role.STUDENT, first_name=first, last_name=last)
    out, _err = run("--district", "alpha", "--kind", "students")
    rows = csv.DictReader(io.StringIO(out))
    assert [row["First name"] for row in rows] == ["Cy", "Al", "Bo"]


def test_command_filters_by_status_and_source(district):
    UserFactory(
        district=district, role=Role.STUDENT, username="active.import", source=Source.IMPORT
    )
    UserFactory(district=district, role=Role.STUDENT, username="active.manual")
    UserFactory(
        district=district,
        role=Role.STUDENT,
        username="gone.import",
        status=Status.DEACTIVATED,
        source=Source.IMPORT,
    )
    out, _err = run(
        "--district", "alpha", "--kind", "students", "--status", "active", "--source", "import"
    )
    assert [row["Username"] for row in csv.DictReader(io.StringIO(out))] == ["active.import"]


def test_command_search_ignores_accents_and_case(district):
    UserFactory(district=district, role=Role.STUDENT, first_name="Zoë", last_name="Ångström")
    UserFactory(district=district, role=Role.STUDENT, first_name="Sam", last_name="Smith")
    out, _err = run("--district", "alpha", "--kind", "students", "--q", "ZOE angstr")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["First name"], row["Last name"]) for row in rows] == [("Zoë", "Ångström")]


def test_command_filters_by_school_year_group_and_role(district, school, teacher, district_admin):
    year = YearGroupFactory(district=district, name="Year 9")
    in_school = UserFactory(district=district, role=Role.STUDENT, year_group=year)
    in_school.schools.add(school)
    UserFactory(district=district, role=Role.STUDENT, year_group=year)
    elsewhere = UserFactory(district=district, role=Role.STUDENT)
    elsewhere.schools.add(school)

    out, _err = run(
        "--district",
        "alpha",
        "--kind",
        "students",
        "--school",
        str(school.pk),
        "--year-group",
        str(year.pk),
    )
    assert [row["Username"] for row in csv.DictReader(io.StringIO(out))] == [in_school.username]

    out, _err = run("--district", "alpha", "--kind", "staff", "--role", "teacher")
    assert [row["Username"] for row in csv.DictReader(io.StringIO(out))] == ["tom.teacher"]


def test_command_never_exports_another_districts_users(district, other_district, other_admin):
    UserFactory(district=district, role=Role.STUDENT, username="ours", first_name="Zoë")
    theirs_school = SchoolFactory(district=other_district)
    theirs = UserFactory(district=other_district, role=Role.STUDENT, first_name="Zoë")
    theirs.schools.add(theirs_school)

    out, _err = run("--district", "alpha", "--kind", "students", "--q", "zoe")
    assert [row["Username"] for row in csv.DictReader(io.StringIO(out))] == ["ours"]
    out, _err = run("--district", "alpha", "--kind", "staff")
    assert "bea.admin" not in out
    with pytest.raises(CommandError, match="no such school in alpha"):
        run("--district", "alpha", "--kind", "students", "--school", str(theirs_school.pk))


def test_unknown_district_lists_known_ones(district, other_district):
    with pytest.raises(CommandError, match="No district has the slug 'nowhere'.*alpha.*bravo"):
        run("--district", "nowhere", "--kind", "students")


def test_xlsx_to_stdout_is_refused(district):
    with pytest.raises(CommandError, match="give --output"):
        run("--district", "alpha", "--kind", "students", "--format", "xlsx")


def test_bad_kind_is_refused(district):
    with pytest.raises(CommandError, match="invalid choice: 'teachers'"):
        run("--district", "alpha", "--kind", "teachers")


def test_role_of_the_other_kind_is_refused(district):
    with pytest.raises(CommandError, match="--role teacher is not a role of students"):
        run("--district", "alpha", "--kind", "students", "--role", "teacher")


def test_unwritable_output_is_a_clear_error(tmp_path, district):
    with pytest.raises(CommandError, match="its folder does not exist"):
        run("--district", "alpha", "--kind", "students", "--output", str(tmp_path / "no/x.csv"))
    with pytest.raises(CommandError, match=f"Cannot write {tmp_path}"):
        run("--district", "alpha", "--kind", "students", "--output", str(tmp_path))
