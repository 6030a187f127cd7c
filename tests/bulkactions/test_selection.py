"""Choosing people from a file of emails or usernames: which column is read, and the
reason given for each line that matches nobody."""

import io

import pytest
from openpyxl import Workbook

from accounts.models import Role
from bulkactions.selection import SelectionRejected, people_from_file
from tests.factories import UserFactory


def select(district, data, *, kind="staff", actor=None, file_name="people.csv"):
    return people_from_file(
        district=district, actor=actor, kind=kind, data=data, file_name=file_name
    )


def test_a_row_is_found_by_its_email_else_its_username(district, teacher, student):
    data = b"Name;Username;E-mail address\nTom;;TOM@alpha.example\nSue;sue.student;\n;;\nX;x;\n"

    found = select(district, data)

    assert found.user_ids == [teacher.pk]
    assert [(u.line, u.text, u.reason) for u in found.unmatched] == [
        (3, "sue.student", "Not staff"),
        (5, "x", "No account with this email or username"),
    ]
    assert found.lines == 3  # the blank line is not one


def test_the_same_person_twice_is_a_duplicate_even_when_named_differently(district, teacher):
    found = select(district, b"Login\ntom.teacher\ntom@alpha.example\n")

    assert found.user_ids == [teacher.pk]
    assert [(u.line, u.reason) for u in found.unmatched] == [(3, "Duplicate of line 2")]


def test_an_xlsx_without_a_header_is_read_from_its_first_row(district, teacher, district_admin):
    book = Workbook()
    book.active.append(["ada.admin"])
    book.active.append(["tom.teacher"])
    data = io.BytesIO()
    book.save(data)

    found = select(district, data.getvalue(), file_name="staff.xlsx")

    assert found.user_ids == [district_admin.pk, teacher.pk]
    assert found.unmatched == []


def test_a_school_admin_is_told_who_is_outside_their_schools(district, school_admin, teacher):
    elsewhere = UserFactory(district=district, role=Role.TEACHER, username="eli")

    found = select(district, b"user\ntom.teacher\neli\n", actor=school_admin)

    assert found.user_ids == [teacher.pk]
    assert [(u.text, u.reason) for u in found.unmatched] == [
        (elsewhere.username, "Not at one of your schools")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"First,Last\nAnn,Ames\n", "No column of emails or usernames"),
        (b"\x00\x01\x02\x03" * 50, "not a CSV or Excel file"),
    ],
)
def test_an_unusable_file_is_refused_with_what_to_do(district, data, message):
    with pytest.raises(SelectionRejected, match=message):
        select(district, data)
