"""Page objects: what a person sees and does on each page, in their words."""

import re

from playwright.sync_api import Locator, Page, expect


class BasePage:
    path = "/"

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")

    def goto(self, path: str | None = None):
        self.page.goto(self.base_url + (path or self.path))
        return self

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    @property
    def error_summary(self) -> Locator:
        return self.page.locator("[data-error-summary]")

    @property
    def success_banner(self) -> Locator:
        return self.page.locator(".banner-success")

    @property
    def skip_link(self) -> Locator:
        return self.page.get_by_role("link", name="Skip to main content")

    def error_summary_links(self) -> Locator:
        return self.error_summary.get_by_role("link")


class LoginPage(BasePage):
    path = "/login/"

    @property
    def identifier(self) -> Locator:
        return self.page.get_by_label("Email address or username")

    @property
    def password(self) -> Locator:
        return self.page.get_by_label("Password", exact=True)

    def sign_in(self, identifier: str, password: str) -> None:
        self.identifier.fill(identifier)
        self.password.fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()


class HomePage(BasePage):
    path = "/"

    def stat(self, label: str) -> Locator:
        return self.page.locator(".stat").filter(has_text=label).locator(".stat-number")


class OutboxPage(BasePage):
    path = "/dev/outbox/"

    def open_message(self, subject: str) -> "OutboxMessagePage":
        self.page.get_by_role("link", name=subject).click()
        message = OutboxMessagePage(self.page, self.base_url)
        expect(message.heading).to_have_text(subject)
        return message


class OutboxMessagePage(BasePage):
    @property
    def body(self) -> Locator:
        return self.page.locator("pre.email-text")

    def link_containing(self, fragment: str) -> Locator:
        """The link in the plain-text body whose address contains fragment."""
        return self.body.locator(f"a[href*='{fragment}']")


class PasswordCreatePage(BasePage):
    """Activation ("Create a password") and reset ("Choose a new password") links."""

    @property
    def password(self) -> Locator:
        return self.page.get_by_label(re.compile(r"^(Create a password|Choose a new password)$"))

    def submit(self, password: str, button: str = "Activate account") -> None:
        self.password.fill(password)
        self.page.get_by_role("button", name=button).click()
        self.page.wait_for_load_state()


class ForgotPasswordPage(BasePage):
    path = "/password/forgot/"


class PasswordChangePage(BasePage):
    path = "/password/change/"


class BrandingPage(BasePage):
    path = "/settings/branding/"

    @property
    def brand_colour(self) -> Locator:
        return self.page.get_by_label("Brand colour")

    def save_colour(self, colour: str) -> None:
        self.brand_colour.fill(colour)
        self.page.get_by_role("button", name="Save settings").click()
        self.page.wait_for_load_state()
