"""A teacher signs in and sees their own classes and students, and no admin page."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from schools.models import Classroom, Enrollment
from tests.factories import ClassroomFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_teacher_sees_only_their_classes_and_students(
    page, district, school, teacher, url_for, sign_in_as, assert_accessible
):
    mine = ClassroomFactory(district=district, school=school, name="7A Maths")
    mine.teachers.add(teacher)
    theirs = ClassroomFactory(district=district, school=school, name="9C History")
    for classroom, name in ((mine, "Mina"), (theirs, "Otto")):
        pupil = UserFactory(
            district=district,
            role=Role.STUDENT,
            first_name=name,
            last_name="Pupil",
            username=f"{name.lower()}.pupil",
        )
        Enrollment.objects.create(district=district, classroom=classroom, student=pupil)
    sign_in_as(page, teacher)

    page.goto(url_for(district, "/"))
    page.get_by_role("link", name="My classes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My classes")
    expect(page.get_by_role("link", name="7A Maths")).to_be_visible()
    expect(page.get_by_text("9C History")).to_have_count(0)
    assert_accessible(page, "teacher-my-classes")

    page.get_by_role("link", name="My students").click()
    expect(page.get_by_text("Pupil, Mina")).to_be_visible()
    expect(page.get_by_text("Pupil, Otto")).to_have_count(0)
    assert_accessible(page, "teacher-my-students")

    response = page.goto(url_for(district, "/settings/students/"))
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    expect(page.get_by_role("navigation", name="Settings")).to_have_count(0)
    assert Classroom.objects.filter(teachers=teacher).count() == 1
