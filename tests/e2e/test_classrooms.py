"""Settings > Classrooms in the browser: create, find a student with the picker, add them."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from schools.models import Enrollment
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_admin_creates_a_classroom_and_adds_a_student(
    page, district, school, district_admin, url_for, sign_in_as, assert_accessible
):
    pupil = UserFactory(
        district=district,
        role=Role.STUDENT,
        first_name="Zoë",
        last_name="Ångström",
        username="zoe.a",
    )
    pupil.schools.add(school)
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/classrooms/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Classrooms")
    assert_accessible(page, "classrooms-list")

    page.get_by_role("link", name="Add a classroom").first.click()
    page.get_by_label("Name").fill("7A Maths")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("7A Maths")
    assert_accessible(page, "classroom-detail")

    search = page.get_by_label("Search students")
    search.fill("angstrom")
    search.press("Enter")
    page.get_by_role("button", name="Add Zoë Ångström to 7A Maths").click()
    expect(page.get_by_text("Ångström, Zoë")).to_be_visible()
    assert_accessible(page, "classroom-with-student")
    assert Enrollment.objects.filter(student=pupil, classroom__name="7A Maths").exists()
