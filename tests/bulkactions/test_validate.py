"""The rules every row is checked against, each with the words the admin reads."""

import pytest

from accounts.models import Role, User
from bulkactions.models import ImportPasswordMode, ImportStatus, RowStatus
from bulkactions.secrets import secret_open
from tests.bulkactions.conftest import rows_by_number
from tests.factories import ClassroomFactory, SchoolFactory, UserFactory, YearGroupFactory

HEADER = "First name,Last name,Email,Year,School,Classes,Username,Student ID"


def students(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def test_required_fields_are_named(run_import):
    job = run_import(students(",,,,Alpha High,,,"))

    (row,) = job.rows.all()
    assert row.status == RowStatus.ERROR
    assert row.errors == {
        "first_name": ["Enter the first name"],
        "last_name": ["Enter the last name"],
        "email": ["Enter the email"],
        "year_group": ["Enter the year group"],
    }


def test_students_with_teacher_set_passwords_need_no_email(run_import):
    job = run_import(
        students("Sam,Okafor,,Year 7,Alpha High,,,"), password_mode=ImportPasswordMode.SET
    )

    assert job.rows.get().status == RowStatus.VALID


def test_staff_need_an_email_but_no_year_group(run_import):
    job = run_import("First name,Last name,Email,Role\nAna,Díaz,,Teacher\n", kind="staff")

    assert job.rows.get().errors == {"email": ["Enter the email"]}


def test_spaces_are_trimmed_with_a_warning(run_import):
    job = run_import(students(" Sam ,Mc  Okafor,  sam@alpha.example ,Year 7,Alpha High,,,"))

    (row,) = job.rows.all()
    assert row.status == RowStatus.WARNING
    assert row.values["first_name"] == "Sam"
    assert row.values["last_name"] == "Mc Okafor"
    assert row.values["email"] == "sam@alpha.example"
    warning = ["We removed spaces before or after this value"]
    assert row.warnings == {"first_name": warning, "last_name": warning, "email": warning}
    assert (job.valid_rows, job.warning_rows) == (0, 1)


@pytest.mark.parametrize("email", ["sam.alpha.example", "sam@", "sam @alpha.example", "@x.org"])
def test_email_syntax_is_checked(run_import, email):
    job = run_import(students(f"Sam,Okafor,{email},Year 7,Alpha High,,,"))

    assert job.rows.get().errors["email"] == [
        "Enter an email address in the correct format, like name@school.org"
    ]


def test_duplicates_inside_the_file_are_marked_on_every_row_involved(run_import):
    job = run_import(
        students(
            "Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,,S-1",
            "Lia,Chen,SAM@Alpha.Example,Year 7,Alpha High,,lia.c,S-2",
            "Max,Roe,max@alpha.example,Year 7,Alpha High,,LIA.C,s-1",
            "Ana,Díaz,Sam@alpha.example,Year 7,Alpha High,,,",
            "Ben,Ode,ben@alpha.example,Year 7,Alpha High,,,",
        )
    )

    rows = rows_by_number(job)
    assert rows[2].errors == {
        "email": [
            "Rows 3, 5 of this file also have this email address: each person needs their own"
        ],
        "sis_id": ["Row 4 of this file also has this SIS id: each person needs their own"],
    }
    assert rows[3].errors == {
        "email": [
            "Rows 2, 5 of this file also have this email address: each person needs their own"
        ],
        "username": ["Row 4 of this file also has this username: each person needs their own"],
    }
    assert rows[4].errors == {
        "username": ["Row 3 of this file also has this username: each person needs their own"],
        "sis_id": ["Row 2 of this file also has this SIS id: each person needs their own"],
    }
    assert rows[5].errors == {
        "email": [
            "Rows 2, 3 of this file also have this email address: each person needs their own"
        ],
    }
    assert rows[6].status == RowStatus.VALID
    assert (job.error_rows, job.valid_rows) == (4, 1)


def test_many_duplicates_are_counted_after_the_first_three(run_import):
    job = run_import(
        students(*[f"P{n},Lee,same@alpha.example,Year 7,Alpha High,,," for n in range(5)])
    )

    assert rows_by_number(job)[2].errors["email"] == [
        "Rows 3, 4, 5 and 1 more of this file also have this email address: each person "
        "needs their own"
    ]


def test_an_identity_already_in_the_district_is_an_error_in_create_mode(run_import, student):
    student.sis_id = "S-77"
    student.save()

    job = run_import(
        students(
            "Sue,Student,SUE@alpha.example,Year 7,Alpha High,,,",
            "Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,Sue.Student,",
            "Lia,Chen,lia@alpha.example,Year 7,Alpha High,,,s-77",
        )
    )

    rows = rows_by_number(job)
    suffix = "to change that account, import with “Create and update”"
    assert rows[2].errors == {
        "email": [f"Sue Student (sue.student) already has this email address: {suffix}"]
    }
    assert rows[3].errors == {
        "username": [f"Sue Student (sue.student) already has this username: {suffix}"]
    }
    assert rows[4].errors == {
        "sis_id": [f"Sue Student (sue.student) already has this SIS id: {suffix}"]
    }


def test_an_account_of_another_district_is_no_clash(run_import, other_district):
    UserFactory(
        district=other_district, role=Role.STUDENT, username="sam.okafor", email="sam@alpha.example"
    )

    job = run_import(students("Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,,"))

    row = job.rows.get()
    assert row.status == RowStatus.VALID
    assert row.resolved["username"] == "sam.okafor"


def test_unknown_school_year_group_and_class_are_named(run_import, classroom):
    ClassroomFactory(
        district=classroom.district,
        school=classroom.school,
        name="Old 7B",
        archived_at="2024-01-01T00:00:00Z",
    )

    job = run_import(
        students(
            "Sam,Okafor,sam@alpha.example,Year 13,Gamma School,,,",
            "Lia,Chen,lia@alpha.example,Year 7,Alpha High,7A; 9Z; old 7b,,",
            "Max,Roe,max@alpha.example,Year 7,Beta Academy,7A,,",
        )
    )

    rows = rows_by_number(job)
    assert rows[2].errors == {
        "schools": [
            "There is no school called “Gamma School” in this district: use a name or code "
            "from the list on the import page"
        ],
        "year_group": ["Enter a year group of this district: Year 7, Year 8, Year 9"],
    }
    assert rows[3].errors == {
        "classrooms": [
            "There is no class called “9Z” at Alpha High: check the spelling or add the class "
            "on the Classrooms page first",
            "The class “Old 7B” is archived: remove it from this row",
        ]
    }
    # Class names are looked up at the student's own school.
    assert rows[4].errors == {
        "classrooms": [
            "There is no class called “7A” at Beta Academy: check the spelling or add the "
            "class on the Classrooms page first"
        ]
    }


def test_school_and_class_are_found_by_name_or_code_case_insensitively(
    run_import, second_school, classroom
):
    job = run_import(students("Sam,Okafor,sam@alpha.example,Year 7,alpha high; beta,7a,,"))

    row = job.rows.get()
    assert row.status == RowStatus.VALID
    assert row.resolved["school_ids"] == [classroom.school_id, second_school.pk]
    assert row.resolved["classroom_ids"] == [classroom.pk]


@pytest.mark.parametrize(
    "text", ["Year 7", "year 7", "YEAR7", "7", "Y7", "y 7", "07", "Grade 7", "Yr 7", "G7"]
)
def test_year_group_is_understood_in_its_usual_forms(run_import, years, text):
    job = run_import(students(f"Sam,Okafor,sam@alpha.example,{text},Alpha High,,,"))

    row = job.rows.get()
    assert row.status == RowStatus.VALID, row.errors
    assert row.resolved["year_group_id"] == years[7].pk


def test_year_group_is_found_by_its_grade_code(run_import, district):
    kindergarten = YearGroupFactory(
        district=district, ordinal=0, name="Kindergarten", grade_code="KG"
    )
    job = run_import(students("Sam,Okafor,sam@alpha.example,KG,Alpha High,,,"))

    assert job.rows.get().resolved["year_group_id"] == kindergarten.pk


@pytest.mark.parametrize("text", ["2024-07-07", "7-Jul", "07/07/2024", "Jul-07"])
def test_a_date_where_the_year_group_should_be_is_explained(run_import, text):
    job = run_import(students(f"Sam,Okafor,sam@alpha.example,{text},Alpha High,,,"))

    assert job.rows.get().errors["year_group"] == [
        f"“{text}” looks like a date: a spreadsheet may have changed the year group. "
        "Format the column as text and enter it like Year 7"
    ]


@pytest.mark.parametrize("sis_id", ["1.23E+11", "4e+12"])
def test_an_id_a_spreadsheet_rounded_is_an_error(run_import, sis_id):
    job = run_import(students(f"Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,,{sis_id}"))

    assert job.rows.get().errors["sis_id"] == [
        f"A spreadsheet rounded this id to {sis_id}: format the column as text, "
        "then export the file again"
    ]


def test_given_passwords_follow_the_policy_and_are_never_stored_as_text(run_import):
    job = run_import(
        "First name,Last name,Year,School,Password\n"
        "Sam,Okafor,Year 7,Alpha High,k7#Lm\n"
        "Lia,Chen,Year 7,Alpha High,password\n"
        "Max,Roe,Year 7,Alpha High,12345678901\n"
        "Ana,Díaz,Year 7,Alpha High,kettle-orbit-97\n"
        "Ben,Ode,Year 7,Alpha High,\n",
        password_mode=ImportPasswordMode.SET,
    )

    rows = rows_by_number(job)
    assert rows[2].errors == {"password": ["Enter a password with at least 8 characters"]}
    assert rows[3].errors == {
        "password": [
            "Choose a less common password: this one is on a list of passwords people often use"
        ]
    }
    assert rows[4].errors["password"] == [
        "Choose a less common password: this one is on a list of passwords people often use",
        "Include letters or symbols: a password cannot be only numbers",
    ]
    assert rows[5].status == RowStatus.VALID
    assert rows[5].resolved["password"] == "given"
    assert secret_open(rows[5].secret) == "kettle-orbit-97"
    assert rows[6].resolved["password"] == "generate"
    assert rows[6].secret == ""
    for row in rows.values():
        assert "password" not in row.values
    # The file held passwords: it is not kept once its rows are stored.
    assert bytes(job.file_data) == b""


def test_the_district_minimum_password_length_applies(run_import, district):
    district.password_min_length = 12
    district.save()
    job = run_import(
        "First name,Last name,Year,School,Password\nSam,Okafor,Year 7,Alpha High,kettle-orb\n",
        password_mode=ImportPasswordMode.SET,
    )

    assert job.rows.get().errors == {"password": ["Enter a password with at least 12 characters"]}


def test_usernames_are_generated_from_the_district_pattern(run_import, district):
    district.username_pattern = "{f}{last}"
    district.save()
    job = run_import(students("Zoë,O'Brien-Smith,zoe@alpha.example,Year 7,Alpha High,,,"))

    row = job.rows.get()
    assert row.resolved["username"] == "zobriensmith"
    assert row.resolved["username_generated"] is True


def test_generated_usernames_avoid_existing_accounts_and_names_typed_later_in_the_file(
    run_import, district
):
    UserFactory(district=district, role=Role.STUDENT, username="sam.okafor")
    UserFactory(district=district, role=Role.TEACHER, username="Sam.Okafor5")

    job = run_import(
        students(
            "Sam,Okafor,s1@alpha.example,Year 7,Alpha High,,,",
            "Sam,Okafor,s2@alpha.example,Year 7,Alpha High,,,",
            "Sam,Okafor,s3@alpha.example,Year 7,Alpha High,,,",
            "Sam,Okafor,s4@alpha.example,Year 7,Alpha High,,,",
            "Other,Person,o@alpha.example,Year 7,Alpha High,,SAM.OKAFOR3,",
            "Third,Person,t@alpha.example,Year 7,Alpha High,,sam.okafor4,",
        )
    )

    rows = rows_by_number(job)
    usernames = {n: row.resolved["username"] for n, row in rows.items()}
    assert usernames == {
        2: "sam.okafor2",
        3: "sam.okafor6",
        4: "sam.okafor7",
        5: "sam.okafor8",
        6: "SAM.OKAFOR3",
        7: "sam.okafor4",
    }
    assert all(row.status == RowStatus.VALID for row in rows.values()), {
        n: r.errors for n, r in rows.items()
    }


def test_typed_usernames_are_checked(run_import):
    job = run_import(students("Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,sam okafor,"))

    assert job.rows.get().errors["username"] == [
        "Enter a username of 2 to 150 letters, digits and . _ @ + - (no spaces)"
    ]


def test_text_that_looks_like_a_formula_is_kept_as_text_and_created_verbatim(
    run_import, commit, district
):
    job = run_import(students('"=SUM(A1)",+Okafor,sam@alpha.example,Year 7,Alpha High,,,'))

    row = job.rows.get()
    assert row.status == RowStatus.VALID
    assert row.values["first_name"] == "=SUM(A1)"
    assert row.resolved["username"] == "suma1.okafor"

    commit(job)
    user = User.objects.get(district=district, email="sam@alpha.example")
    assert (user.first_name, user.last_name) == ("=SUM(A1)", "+Okafor")

    from bulkactions.importing.results import results_csv

    # In the results a spreadsheet opens, it stays text too.
    assert "'=SUM(A1),'+Okafor" in results_csv(job).decode("utf-8-sig")


def test_a_school_admin_imports_only_into_their_own_schools(
    run_import, school_admin, second_school
):
    job = run_import(
        students(
            "Sam,Okafor,sam@alpha.example,Year 7,Alpha High,,,",
            "Lia,Chen,lia@alpha.example,Year 7,Beta Academy,,,",
            "Max,Roe,max@alpha.example,Year 7,Alpha High; Beta Academy,,,",
        ),
        actor=school_admin,
    )

    rows = rows_by_number(job)
    assert rows[2].status == RowStatus.VALID
    assert rows[3].errors == {"schools": ["Enter one of your own schools"]}
    assert rows[4].errors == {"schools": ["Enter one of your own schools"]}


def test_a_school_admin_imports_teachers_of_their_schools_only(run_import, school_admin):
    job = run_import(
        "First name,Last name,Email,Role,School\n"
        "Ana,Díaz,ana@alpha.example,Teacher,Alpha High\n"
        "Ben,Ode,ben@alpha.example,District admin,Alpha High\n"
        "Cal,Fox,cal@alpha.example,Teacher,\n",
        kind="staff",
        actor=school_admin,
    )

    rows = rows_by_number(job)
    assert rows[2].status == RowStatus.VALID
    assert rows[3].errors == {"role": ["School admins can import teachers and students only"]}
    # A teacher without a school would be out of the school admin's reach once created.
    assert rows[4].errors == {"schools": ["Enter one of your own schools"]}


def test_in_a_district_with_one_school_the_school_column_is_optional(
    run_import_in, other_district, other_admin
):
    only = SchoolFactory(district=other_district, name="Bravo Primary")
    YearGroupFactory(district=other_district, ordinal=7, name="Grade 7", grade_code="07")

    job = run_import_in(
        other_district, other_admin, "First name,Last name,Email,Grade\nSam,Okafor,s@b.example,7\n"
    )

    assert job.status == ImportStatus.REVIEW
    row = job.rows.get()
    assert row.status == RowStatus.VALID
    assert row.resolved["school_ids"] == [only.pk]


def test_in_a_district_with_several_schools_a_student_needs_one(run_import):
    job = run_import("First name,Last name,Email,Year\nSam,Okafor,sam@alpha.example,Year 7\n")

    assert job.rows.get().errors == {"schools": ["Enter the school"]}


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Teacher", Role.TEACHER),
        ("teacher", Role.TEACHER),
        ("", Role.TEACHER),
        ("School admin", Role.SCHOOL_ADMIN),
        ("School Administrator", Role.SCHOOL_ADMIN),
        ("District admin", Role.DISTRICT_ADMIN),
        ("district_admin", Role.DISTRICT_ADMIN),
    ],
)
def test_staff_roles_are_understood(run_import, text, role):
    job = run_import(
        f"First name,Last name,Email,Role,School\nAna,Díaz,ana@alpha.example,{text},Alpha High\n",
        kind="staff",
    )

    row = job.rows.get()
    assert row.status == RowStatus.VALID, row.errors
    assert row.resolved["role"] == role


def test_an_unknown_staff_role_is_an_error_and_a_school_admin_needs_a_school(run_import):
    job = run_import(
        "First name,Last name,Email,Role,School\n"
        "Ana,Díaz,ana@alpha.example,Janitor,Alpha High\n"
        "Ben,Ode,ben@alpha.example,School admin,\n"
        "Cal,Fox,cal@alpha.example,District admin,\n",
        kind="staff",
    )

    rows = rows_by_number(job)
    assert rows[2].errors == {"role": ["Enter Teacher, School admin or District admin"]}
    assert rows[3].errors == {"schools": ["Enter the school"]}
    assert rows[4].status == RowStatus.VALID
