"""axe finds nothing on each page a person reaches, before and after a failed submit."""

import pytest
from playwright.sync_api import expect

from accounts.tokens import token_issue
from tests.e2e.pages import (
    BrandingPage,
    ForgotPasswordPage,
    HomePage,
    LoginPage,
    PasswordChangePage,
    PasswordCreatePage,
)
from tests.factories import InvitedUserFactory

pytestmark = pytest.mark.e2e


def test_login_page_is_accessible_before_and_after_a_failed_submit(
    district, page, url_for, assert_accessible
):
    login = LoginPage(page, url_for(district)).goto()
    expect(login.heading).to_have_text("Sign in to Alpha District")
    assert_accessible(page, "login")

    page.get_by_role("button", name="Sign in").click()
    expect(login.error_summary).to_contain_text("There is a problem")
    expect(login.error_summary_links()).to_have_text(
        ["Enter your email address or username", "Enter your password"]
    )
    assert_accessible(page, "login-errors")


def test_skip_link_is_the_first_thing_tab_reaches(district, page, url_for, screenshot):
    login = LoginPage(page, url_for(district)).goto()
    page.keyboard.press("Tab")
    expect(login.skip_link).to_be_focused()
    expect(login.skip_link).to_be_in_viewport()
    screenshot(page, "login-skip-link-focused")

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_activation_page_is_accessible(district, page, url_for, assert_accessible):
    invited = InvitedUserFactory(district=district, username="ivy.invited", first_name="Ivy")
    _token, raw = token_issue(user=invited, purpose="activate", dispatch_key="k1")

    activate = PasswordCreatePage(page, url_for(district)).goto(f"/activate/{raw}/")
    expect(activate.heading).to_have_text("Create a password")
    assert_accessible(page, "activate")

    activate.submit("password")
    expect(activate.error_summary).to_contain_text("There is a problem")
    assert_accessible(page, "activate-errors")


def test_forgotten_password_page_is_accessible(district, page, url_for, assert_accessible):
    forgot = ForgotPasswordPage(page, url_for(district)).goto()
    expect(forgot.heading).to_have_text("Reset your password")
    assert_accessible(page, "forgot-password")


def test_password_change_page_is_accessible(
    district, teacher, page, url_for, sign_in_as, assert_accessible
):
    sign_in_as(page, teacher)
    change = PasswordChangePage(page, url_for(district)).goto()
    expect(change.heading).to_have_text("Change your password")
    assert_accessible(page, "password-change")


def test_signed_in_home_page_is_accessible(
    district, admin, teacher, page, new_page, url_for, sign_in_as, assert_accessible
):
    sign_in_as(page, teacher)
    home = HomePage(page, url_for(district)).goto()
    expect(home.heading).to_have_text("Welcome, Tom")
    assert_accessible(page, "home-teacher")

    admin_page = new_page()
    sign_in_as(admin_page, admin)
    admin_home = HomePage(admin_page, url_for(district)).goto()
    expect(admin_home.heading).to_have_text("Welcome, Ada")
    expect(admin_page.get_by_role("navigation", name="Settings")).to_be_visible()
    assert_accessible(admin_page, "home-admin")


def test_branding_page_is_accessible_and_refuses_an_unreadable_colour(
    district, admin, page, url_for, sign_in_as, assert_accessible
):
    sign_in_as(page, admin)
    branding = BrandingPage(page, url_for(district)).goto()
    expect(branding.heading).to_have_text("Branding and sign-in")
    assert_accessible(page, "branding")

    # Neither white nor near-black text reaches 4.5:1 on this mid grey.
    branding.save_colour("#787878")
    expect(page).to_have_title("Error: Branding and sign-in – Alpha District – Rollbook")
    expect(branding.error_summary).to_be_focused()
    expect(branding.error_summary_links()).to_have_text(
        [
            "Choose a darker or lighter colour: text on #787878 would have a contrast of "
            "4.43:1, and it must be at least 4.5:1 to be readable"
        ]
    )
    expect(page.locator("#id_brand_colour-error-1")).to_contain_text("Choose a darker")
    expect(branding.brand_colour).to_have_value("#787878")
    assert_accessible(page, "branding-errors")
