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
    def info_banner(self) -> Locator:
        return self.page.locator(".banner-info")

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


class PeopleListPage(BasePage):
    """Settings > Students (or Staff): search, filters, status tabs, the table, selection."""

    path = "/settings/students/"
    title = "Students"

    @property
    def table(self) -> Locator:
        return self.page.locator("table.people-table")

    @property
    def caption(self) -> Locator:
        return self.table.locator("caption")

    @property
    def row_headers(self) -> Locator:
        """The name cell of each row, as "Last, First"."""
        return self.table.get_by_role("rowheader")

    def row(self, listed_name: str) -> Locator:
        return self.table.get_by_role("row").filter(
            has=self.page.get_by_role("rowheader", name=listed_name, exact=True)
        )

    def person_link(self, listed_name: str) -> Locator:
        return self.table.get_by_role("link", name=listed_name, exact=True)

    @property
    def search(self) -> Locator:
        return self.page.get_by_role("searchbox", name="Search")

    def search_for(self, text: str) -> None:
        self.search.fill(text)
        self.page.get_by_role("button", name="Apply filters").click()
        self.page.wait_for_load_state()

    def status_tab(self, label: str) -> Locator:
        return self.page.get_by_role("navigation", name=f"{self.title} by status").get_by_role(
            "link", name=re.compile(rf"^{label} \d+$")
        )

    def remove_filter(self, label: str) -> Locator:
        return self.page.get_by_role("link", name=f"Remove filter: {label}")

    def column(self, label: str) -> Locator:
        return self.table.get_by_role("columnheader", name=label, exact=True)

    def sort_by(self, label: str) -> None:
        self.column(label).get_by_role("link").click()
        self.page.wait_for_load_state()

    def checkbox_for(self, full_name: str) -> Locator:
        return self.table.get_by_role("checkbox", name=f"Select {full_name}", exact=True)

    @property
    def select_page(self) -> Locator:
        return self.table.get_by_role("checkbox", name=re.compile(r"^Select all \d+ on this page$"))

    @property
    def selection_count(self) -> Locator:
        return self.page.locator("[data-selection-count]")

    @property
    def select_all_matching(self) -> Locator:
        return self.page.get_by_role("button", name=re.compile(r"^Select all [\d,]+ matching$"))

    @property
    def panel(self) -> "PersonPanel":
        return PersonPanel(self.page)


class PersonActions:
    """What an admin can do to one person, on their page or in the side panel."""

    def __init__(self, page: Page, scope: Locator):
        self.page = page
        self.scope = scope

    @property
    def status(self) -> Locator:
        return self.scope.locator(".summary-list .tag").first

    def deactivate_button(self, full_name: str) -> Locator:
        return self.scope.get_by_role("link", name=f"Deactivate {full_name}", exact=True)

    def delete_button(self, full_name: str) -> Locator:
        return self.scope.get_by_role("link", name=f"Delete {full_name}", exact=True)

    def dialog(self, title: str) -> "ConfirmDialog":
        return ConfirmDialog(self.page, title)


class PersonPanel(PersonActions):
    """The details panel beside a list: a non-modal aside named by its heading."""

    def __init__(self, page: Page):
        super().__init__(page, page.locator("#person-panel"))

    @property
    def heading(self) -> Locator:
        return self.scope.get_by_role("heading", level=2).first


class PersonPage(BasePage, PersonActions):
    """One person's page: /settings/people/<pk>/."""

    def __init__(self, page: Page, base_url: str):
        BasePage.__init__(self, page, base_url)
        PersonActions.__init__(self, page, page.locator("main"))

    def goto_person(self, person) -> "PersonPage":
        return self.goto(f"/settings/people/{person.pk}/")


class ConfirmDialog:
    """A modal <dialog> that asks before a destructive action."""

    def __init__(self, page: Page, title: str):
        self.page = page
        self.locator = page.get_by_role("dialog", name=title, exact=True)

    @property
    def cancel(self) -> Locator:
        return self.locator.get_by_role("button", name="Cancel")

    def confirm(self, button: str) -> None:
        self.locator.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_load_state()


class PersonFormPage(BasePage):
    """Add a student / member of staff."""

    path = "/settings/students/new/"

    def fill_names(self, first: str, last: str) -> None:
        self.page.get_by_label("First name").fill(first)
        self.page.get_by_label("Last name").fill(last)

    @property
    def email(self) -> Locator:
        return self.page.get_by_label("Email address")

    def tick_school(self, name: str) -> None:
        self.page.get_by_role("group", name="Schools").get_by_label(name).check()

    def choose(self, label: str) -> None:
        self.page.get_by_role("radio", name=label, exact=True).check()

    def submit(self, button: str = "Add student") -> None:
        self.page.get_by_role("button", name=button).click()
        self.page.wait_for_load_state()


class CredentialsPage(BasePage):
    """Shown once after a password is set for someone: the sign-in slip."""

    def credential(self, label: str) -> Locator:
        return (
            self.page.locator(".credential-slip .summary-row")
            .filter(has=self.page.get_by_text(label, exact=True))
            .locator("dd")
        )
