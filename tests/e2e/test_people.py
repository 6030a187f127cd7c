"""Settings > Students: an admin adds, finds, opens, deactivates and deletes students."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role, Status, User
from tests.e2e.pages import (
    CredentialsPage,
    HomePage,
    LoginPage,
    OutboxPage,
    PasswordChangePage,
    PasswordCreatePage,
    PeopleListPage,
    PersonFormPage,
    PersonPage,
)
from tests.factories import PASSWORD, SchoolFactory, UserFactory

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "lantern-orchard-meadow-42"
SELF_SETS = "The student sets it: we email them an activation link"
TEACHER_SETS = "A teacher sets it: no email needed"

# (first, last, status): 30 students, Zoë Ångström among them, three deactivated.
ROSTER = [
    ("Zoë", "Ångström", Status.ACTIVE),
    ("Amy", "Adams", Status.ACTIVE),
    ("Ben", "Baker", Status.DEACTIVATED),
    ("Cara", "Chen", Status.ACTIVE),
    ("Dev", "Desai", Status.INVITED),
    ("Eli", "Evans", Status.ACTIVE),
    ("Fay", "Flores", Status.DEACTIVATED),
    ("Gus", "Garcia", Status.ACTIVE),
    ("Hana", "Hall", Status.ACTIVE),
    ("Ian", "Ito", Status.INVITED),
    ("Jo", "Jones", Status.ACTIVE),
    ("Kai", "King", Status.ACTIVE),
    ("Lea", "Lopez", Status.DEACTIVATED),
    ("Max", "Miller", Status.ACTIVE),
    ("Nia", "Nguyen", Status.ACTIVE),
    ("Omar", "Ortiz", Status.ACTIVE),
    ("Pia", "Patel", Status.ACTIVE),
    ("Quin", "Quinn", Status.ACTIVE),
    ("Rui", "Reyes", Status.ACTIVE),
    ("Sam", "Smith", Status.ACTIVE),
    ("Tia", "Turner", Status.ACTIVE),
    ("Uma", "Upton", Status.ACTIVE),
    ("Vic", "Vega", Status.ACTIVE),
    ("Wes", "Walker", Status.ACTIVE),
    ("Xia", "Xu", Status.ACTIVE),
    ("Yara", "Young", Status.ACTIVE),
    ("Zak", "Zimmer", Status.ACTIVE),
    ("Ana", "Díaz", Status.ACTIVE),
    ("Bo", "Brown", Status.ACTIVE),
    ("Cy", "Cole", Status.ACTIVE),
]


def seed_students(district, school, roster=ROSTER) -> list[User]:
    students = []
    for first, last, status in roster:
        student = UserFactory(
            district=district, role=Role.STUDENT, first_name=first, last_name=last, status=status
        )
        student.schools.add(school)
        students.append(student)
    return students


def students_page(page, district, url_for, query: str = "") -> PeopleListPage:
    students = PeopleListPage(page, url_for(district)).goto(PeopleListPage.path + query)
    expect(students.heading).to_have_text("Students")
    return students


def test_admin_adds_a_student_who_activates_from_the_emailed_link(
    district, school, admin, new_page, url_for, assert_accessible
):
    SchoolFactory(district=district, name="Beacon Middle")
    admin_page = new_page()
    LoginPage(admin_page, url_for(district)).goto().sign_in("ada.admin", PASSWORD)
    expect(HomePage(admin_page, url_for(district)).heading).to_have_text("Welcome, Ada")

    admin_page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Students"
    ).click()
    students = PeopleListPage(admin_page, url_for(district))
    expect(students.heading).to_have_text("Students")
    expect(admin_page).to_have_title("Students – Alpha District – Rollbook")
    expect(students.caption).to_contain_text("0 students")
    assert_accessible(admin_page, "people-students-empty")

    admin_page.get_by_role("link", name="Add a student").click()
    form = PersonFormPage(admin_page, url_for(district))
    expect(form.heading).to_have_text("Add a student")
    expect(admin_page.get_by_role("radio", name=SELF_SETS)).to_be_checked()
    expect(admin_page.get_by_role("group", name="Password to use")).to_be_hidden()
    assert_accessible(admin_page, "people-add-student")

    form.fill_names("Ana", "Díaz")
    form.email.fill("ana.diaz@alpha.example")
    form.tick_school("Beacon Middle")
    form.choose(SELF_SETS)
    form.submit()

    person = PersonPage(admin_page, url_for(district))
    expect(person.heading).to_have_text("Ana Díaz")
    expect(person.success_banner).to_contain_text(
        "Ana Díaz added. An activation email is on its way to ana.diaz@alpha.example."
    )
    expect(person.status).to_have_text("Invited")
    expect(
        admin_page.get_by_role("navigation", name="Settings").get_by_role("link", name="Students")
    ).to_have_attribute("aria-current", "page")
    expect(admin_page.locator("main")).to_contain_text("Beacon Middle")
    assert_accessible(admin_page, "people-student-added")
    ana = User.objects.get(district=district, email="ana.diaz@alpha.example")
    assert ana.role == Role.STUDENT
    assert [s.name for s in ana.schools.all()] == ["Beacon Middle"]

    # Ana, in a browser of her own, follows the link in her email.
    student_page = new_page()
    outbox = OutboxPage(student_page, url_for(district)).goto()
    email = outbox.open_message("Activate your Rollbook account – Alpha District")
    expect(email.body).to_contain_text("Hello Ana,")
    email.link_containing("/activate/").click()

    activate = PasswordCreatePage(student_page, url_for(district))
    expect(activate.heading).to_have_text("Create a password")
    expect(student_page.get_by_text(ana.username, exact=True)).to_be_visible()
    assert_accessible(student_page, "people-student-create-password")
    activate.submit(NEW_PASSWORD)

    home = HomePage(student_page, url_for(district))
    expect(home.heading).to_have_text("Welcome, Ana")
    expect(home.success_banner).to_contain_text("Your account is active and you are signed in.")
    assert_accessible(student_page, "people-student-activated-home")
    ana.refresh_from_db()
    assert ana.status == Status.ACTIVE


def test_student_whose_teacher_sets_a_generated_password_changes_it_at_first_sign_in(
    district, school, admin, new_page, url_for, sign_in_as, assert_accessible
):
    admin_page = new_page()
    sign_in_as(admin_page, admin)
    form = PersonFormPage(admin_page, url_for(district)).goto()
    password_to_use = admin_page.get_by_role("group", name="Password to use")
    expect(password_to_use).to_be_hidden()

    form.fill_names("Omar", "Farouk")
    form.choose(TEACHER_SETS)
    expect(password_to_use).to_be_visible()
    form.choose("Generate a password")
    # The only school is ticked already.
    expect(admin_page.get_by_role("checkbox", name="Alpha High")).to_be_checked()
    assert_accessible(admin_page, "people-add-student-teacher-sets")
    form.submit()

    slip = CredentialsPage(admin_page, url_for(district))
    expect(slip.heading).to_have_text("Sign-in details for Omar Farouk")
    expect(slip.success_banner).to_contain_text("Omar Farouk added.")
    expect(admin_page.get_by_text("This is the only time the password is shown")).to_be_visible()
    expect(slip.credential("Username")).to_have_text("omar.farouk")
    password = slip.credential("Password").inner_text().strip()
    assert re.fullmatch(r"[a-z]+-[a-z]+\d{2}", password), password
    assert_accessible(admin_page, "people-credentials")

    # Reloading sends the form again: it is recognised, and the password is not shown again.
    admin_page.reload()
    person = PersonPage(admin_page, url_for(district))
    expect(person.heading).to_have_text("Omar Farouk")
    expect(person.info_banner).to_contain_text("This form was already sent: the account exists.")
    expect(admin_page.locator("main")).to_contain_text(
        "Password set by staff (must change it at next sign-in)"
    )
    expect(admin_page.get_by_text(password)).to_have_count(0)
    assert_accessible(admin_page, "people-student-teacher-sets")
    assert User.objects.filter(district=district, last_name="Farouk").count() == 1
    # Going back reaches the empty form, not the slip.
    admin_page.go_back()
    expect(form.heading).to_have_text("Add a student")
    expect(admin_page.get_by_text(password)).to_have_count(0)

    # Omar signs in with the slip and must choose his own password first.
    student_page = new_page()
    LoginPage(student_page, url_for(district)).goto().sign_in("omar.farouk", password)
    change = PasswordChangePage(student_page, url_for(district))
    expect(change.heading).to_have_text("Change your password")
    expect(student_page).to_have_url(url_for(district, "/password/change/"))
    expect(student_page.locator("main")).to_contain_text("Your password was set by someone else")
    assert_accessible(student_page, "people-forced-password-change")

    student_page.get_by_label("Current password", exact=True).fill(password)
    student_page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    student_page.get_by_role("button", name="Change password").click()
    home = HomePage(student_page, url_for(district))
    expect(home.heading).to_have_text("Welcome, Omar")
    expect(home.success_banner).to_contain_text("Your password has been changed.")
    assert_accessible(student_page, "people-forced-change-done")
    omar = User.objects.get(district=district, username="omar.farouk")
    assert not omar.must_change_password
    assert omar.check_password(NEW_PASSWORD)


def test_admin_searches_filters_and_sorts_students(
    district, school, admin, page, url_for, sign_in_as, assert_accessible, screenshot
):
    seed_students(district, school)
    sign_in_as(page, admin)
    students = students_page(page, district, url_for)
    expect(students.caption).to_have_text("30 students")
    expect(students.column("Name")).to_have_attribute("aria-sort", "ascending")
    ascending = students.row_headers.all_inner_texts()
    assert len(ascending) == 30
    assert_accessible(page, "people-list")

    # Accents are not needed to find someone.
    students.search_for("angstrom")
    expect(students.row_headers).to_have_text(["Ångström, Zoë"])
    expect(students.caption).to_have_text("1 student matching the filters")
    expect(students.search).to_have_value("angstrom")
    assert_accessible(page, "people-list-search")
    students.remove_filter("“angstrom”").click()
    expect(students.row_headers).to_have_count(30)
    expect(students.search).to_have_value("")

    # The status tabs.
    deactivated_tab = students.status_tab("Deactivated")
    expect(deactivated_tab).to_have_text(re.compile(r"Deactivated\s+3"))
    deactivated_tab.click()
    expect(students.status_tab("Deactivated")).to_have_attribute("aria-current", "page")
    expect(students.row_headers).to_have_text(["Baker, Ben", "Flores, Fay", "Lopez, Lea"])
    expect(students.caption).to_have_text("3 students matching the filters")
    for name in ("Baker, Ben", "Flores, Fay", "Lopez, Lea"):
        expect(students.row(name).locator(".tag")).to_have_text("Deactivated")
    assert_accessible(page, "people-list-deactivated")
    students.remove_filter("Deactivated").click()
    expect(students.row_headers).to_have_count(30)
    expect(students.status_tab("All")).to_have_attribute("aria-current", "page")
    expect(students.remove_filter("Deactivated")).to_have_count(0)

    # Sorting: Name again turns the order round.
    students.sort_by("Name")
    expect(students.column("Name")).to_have_attribute("aria-sort", "descending")
    expect(students.column("Username")).not_to_have_attribute("aria-sort", re.compile(".*"))
    expect(students.row_headers).to_have_text(list(reversed(ascending)))
    assert "sort=-name" in page.url
    screenshot(page, "people-list-sorted")


def test_side_panel_takes_focus_and_escape_gives_it_back(
    district, school, admin, student, page, url_for, sign_in_as, assert_accessible
):
    seed_students(district, school, ROSTER[:3])
    sign_in_as(page, admin)
    students = students_page(page, district, url_for)

    link = students.person_link("Student, Sue")
    link.click()
    panel = students.panel
    expect(page.get_by_role("complementary", name="Sue Student")).to_be_visible()
    expect(panel.heading).to_have_text("Sue Student")
    expect(panel.heading).to_be_focused()
    expect(panel.status).to_have_text("Active")
    expect(page).to_have_url(url_for(district, "/settings/students/"))
    assert_accessible(page, "people-panel")

    page.keyboard.press("Escape")
    expect(page.get_by_role("complementary", name="Sue Student")).to_have_count(0)
    expect(page.locator("#person-panel")).to_be_hidden()
    expect(link).to_be_focused()

    # The Close button does the same.
    link.click()
    expect(panel.heading).to_be_focused()
    page.get_by_role("button", name="Close details of Sue Student").click()
    expect(page.locator("#person-panel")).to_be_hidden()
    expect(link).to_be_focused()


def test_admin_deactivates_a_student_after_confirming_in_a_dialog(
    district, school, admin, student, page, url_for, sign_in_as, assert_accessible
):
    sign_in_as(page, admin)
    students = students_page(page, district, url_for)
    students.person_link("Student, Sue").click()
    panel = students.panel
    expect(panel.heading).to_be_focused()

    deactivate = panel.deactivate_button("Sue Student")
    deactivate.click()
    dialog = panel.dialog("Deactivate Sue Student?")
    expect(dialog.locator).to_be_visible()
    expect(dialog.locator).to_contain_text("Sue Student will no longer be able to sign in.")
    expect(dialog.cancel).to_be_focused()
    assert_accessible(page, "people-deactivate-dialog")

    # Escape closes the dialog only; the panel stays and focus is back on the button.
    page.keyboard.press("Escape")
    expect(dialog.locator).to_be_hidden()
    expect(panel.heading).to_be_visible()
    expect(deactivate).to_be_focused()
    assert User.objects.get(pk=student.pk).status == Status.ACTIVE

    deactivate.click()
    dialog.confirm("Deactivate Sue Student")
    person = PersonPage(page, url_for(district))
    expect(person.heading).to_have_text("Sue Student")
    expect(person.success_banner).to_contain_text(
        "Sue Student deactivated: they can no longer sign in."
    )
    expect(person.status).to_have_text("Deactivated")
    assert_accessible(page, "people-deactivated")
    assert User.objects.get(pk=student.pk).status == Status.DEACTIVATED

    page.get_by_role("link", name="Back to students").click()
    tag = students.row("Student, Sue").locator(".tag")
    expect(tag).to_have_text("Deactivated")
    expect(tag).to_have_class(re.compile(r"\btag-deactivated\b"))
    expect(tag).to_have_css("color", "rgb(148, 37, 20)")
    assert_accessible(page, "people-list-after-deactivate")


def test_admin_deletes_a_deactivated_student(
    district, school, admin, page, url_for, sign_in_as, assert_accessible
):
    seed_students(district, school, ROSTER[:3])
    gone = UserFactory(
        district=district,
        role=Role.STUDENT,
        first_name="Gail",
        last_name="Gone",
        status=Status.DEACTIVATED,
    )
    sign_in_as(page, admin)
    person = PersonPage(page, url_for(district)).goto_person(gone)
    expect(person.heading).to_have_text("Gail Gone")
    expect(person.status).to_have_text("Deactivated")
    assert_accessible(page, "people-deactivated-person")

    person.delete_button("Gail Gone").click()
    dialog = person.dialog("Delete Gail Gone?")
    expect(dialog.locator).to_contain_text("This cannot be undone.")
    expect(dialog.cancel).to_be_focused()
    assert_accessible(page, "people-delete-dialog")
    dialog.confirm("Delete Gail Gone")

    students = PeopleListPage(page, url_for(district))
    expect(students.heading).to_have_text("Students")
    expect(page).to_have_url(url_for(district, "/settings/students/"))
    expect(students.success_banner).to_contain_text("Gail Gone deleted.")
    expect(students.row_headers).to_have_count(3)
    expect(students.table).not_to_contain_text("Gone")
    assert_accessible(page, "people-list-after-delete")
    assert not User.objects.filter(pk=gone.pk).exists()


def test_admin_selects_rows_then_everyone_matching(
    district, school, admin, page, url_for, sign_in_as, assert_accessible
):
    seed_students(district, school)
    sign_in_as(page, admin)
    students = students_page(page, district, url_for, "?per_page=25")
    expect(students.caption).to_have_text("30 students, page 1 of 2")
    expect(students.row_headers).to_have_count(25)
    expect(students.selection_count).to_have_text("0 selected")
    expect(students.selection_count).to_have_attribute("aria-live", "polite")
    expect(students.select_all_matching).to_be_hidden()

    students.checkbox_for("Amy Adams").check()
    students.checkbox_for("Ben Baker").check()
    expect(students.selection_count).to_have_text("2 selected")
    expect(students.select_page).not_to_be_checked()

    expect(students.select_page).to_have_accessible_name("Select all 25 on this page")
    students.select_page.check()
    expect(students.table.get_by_role("checkbox", checked=True)).to_have_count(26)
    expect(students.selection_count).to_have_text("25 selected")
    expect(students.select_all_matching).to_have_text("Select all 30 matching")
    expect(students.select_all_matching).to_be_visible()
    assert_accessible(page, "people-list-page-selected")

    students.select_all_matching.click()
    expect(students.selection_count).to_have_text("All 30 matching selected")
    expect(students.select_all_matching).to_be_hidden()
    expect(page.locator("[data-all-matching]")).to_have_value("1")

    # Unticking one row is no longer "all matching".
    students.checkbox_for("Amy Adams").uncheck()
    expect(students.selection_count).to_have_text("24 selected")
    expect(page.locator("[data-all-matching]")).to_have_value("0")
    expect(students.select_page).not_to_be_checked()

    # The next page keeps 25 a page and starts with nothing selected.
    page.get_by_role("navigation", name="Pagination").get_by_role("link", name="2").click()
    expect(students.caption).to_have_text("30 students, page 2 of 2")
    expect(students.row_headers).to_have_count(5)
    expect(students.selection_count).to_have_text("0 selected")


def test_last_page_of_a_list_sorted_by_status_shows_its_own_rows(
    district, school, admin, page, url_for, sign_in_as, assert_accessible
):
    """Pages past the middle are read backwards (accounts.selectors.users_page): the admin
    still sees exactly the rows that belong on the page, in order."""
    seed_students(district, school)
    sign_in_as(page, admin)
    # 30 students by status (active, deactivated, invited), then name: page 2 of 25 a page
    # holds the last five, past the middle.
    students = students_page(page, district, url_for, "?sort=status&per_page=25&page=2")
    expect(students.row_headers).to_have_text(
        ["Baker, Ben", "Flores, Fay", "Lopez, Lea", "Desai, Dev", "Ito, Ian"]
    )
    expect(students.column("Status")).to_have_attribute("aria-sort", "ascending")
    assert_accessible(page, "people-list-status-last-page")
