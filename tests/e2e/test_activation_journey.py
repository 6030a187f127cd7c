"""An admin invites a teacher; the teacher activates the account from the emailed link."""

import pytest
from playwright.sync_api import expect

from accounts.models import Status, User
from accounts.services import user_create
from tests.e2e.pages import HomePage, LoginPage, OutboxPage, PasswordCreatePage
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "lantern-orchard-meadow-42"


def test_invited_teacher_activates_account_from_emailed_link(
    district, admin, new_page, url_for, assert_accessible
):
    admin_page = new_page()
    login = LoginPage(admin_page, url_for(district)).goto()
    expect(login.heading).to_have_text("Sign in to Alpha District")
    login.sign_in("ada.admin", PASSWORD)

    home = HomePage(admin_page, url_for(district))
    expect(home.heading).to_have_text("Welcome, Ada")
    expect(home.stat("not yet accepted")).to_have_text("0")

    teacher = user_create(
        district=district,
        actor=admin,
        role="teacher",
        first_name="Tina",
        last_name="Trent",
        email="tina@alpha.example",
    )
    assert teacher.status == Status.INVITED
    admin_page.reload()
    expect(home.stat("not yet accepted")).to_have_text("1")
    assert_accessible(admin_page, "journey-admin-home")

    # The teacher, in a browser of their own, opens the email and follows its link.
    teacher_page = new_page()
    outbox = OutboxPage(teacher_page, url_for(district)).goto()
    assert_accessible(teacher_page, "journey-outbox")
    email = outbox.open_message("Activate your Rollbook account – Alpha District")
    expect(email.body).to_contain_text("Hello Tina,")
    expect(email.body).to_contain_text("Ada Admin at Alpha District has created")
    assert_accessible(teacher_page, "journey-activation-email")
    link = email.link_containing("/activate/")
    expect(link).to_have_count(1)
    activation_url = link.get_attribute("href")
    assert activation_url.startswith(url_for(district, "/activate/"))
    link.click()

    activate = PasswordCreatePage(teacher_page, url_for(district))
    expect(activate.heading).to_have_text("Create a password")
    expect(teacher_page.get_by_text(teacher.username, exact=True)).to_be_visible()
    assert_accessible(teacher_page, "journey-create-password")
    activate.submit(NEW_PASSWORD)

    welcome = HomePage(teacher_page, url_for(district))
    expect(welcome.heading).to_have_text("Welcome, Tina")
    expect(welcome.success_banner).to_contain_text("Success")
    expect(welcome.success_banner).to_contain_text("Your account is active and you are signed in.")
    expect(teacher_page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(teacher_page, "journey-activated-home")

    teacher = User.objects.get(pk=teacher.pk)
    assert teacher.status == Status.ACTIVE
    assert teacher.check_password(NEW_PASSWORD)

    # The link works once.
    teacher_page.goto(activation_url)
    used = PasswordCreatePage(teacher_page, url_for(district))
    expect(used.heading).to_have_text("This link has already been used")
    expect(teacher_page).to_have_title(
        "This link has already been used – Alpha District – Rollbook"
    )
    assert_accessible(teacher_page, "journey-link-used")


def test_wrong_password_shows_focused_error_summary(
    district, admin, page, url_for, assert_accessible
):
    login = LoginPage(page, url_for(district)).goto()
    login.sign_in("ada.admin", "not-the-password")

    expect(page).to_have_title("Error: Sign in – Alpha District – Rollbook")
    expect(login.error_summary).to_contain_text("There is a problem")
    expect(login.error_summary_links()).to_have_text(
        ["The email address, username or password is not right. Check them and try again."]
    )
    expect(login.error_summary).to_be_focused()
    expect(login.identifier).to_have_value("ada.admin")
    expect(login.password).to_have_value("")
    assert_accessible(page, "login-wrong-password")

    login.error_summary_links().first.click()
    expect(login.identifier).to_be_focused()
