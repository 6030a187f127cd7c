"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Districts are served by host, so a district with slug "alpha" lives at
http://alpha.localhost:<port>/ (Chromium resolves *.localhost to loopback).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module: closing it stops Playwright's event loop, so tests
    outside tests/e2e keep Django's async-safety check."""
    if not CHROMIUM.exists():
        reason = f"End-to-end tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which Django takes
    # for async code; the tests' own queries (and the database flush) are plain sync code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _e2e_settings(settings, live_server, browser):
    """The dev outbox on, and links in emails pointing at the live server over plain http."""
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "accounts.mail.OutboxBackend"
    settings.SITE_SCHEME = "http"
    settings.SITE_PORT = str(live_server.thread.port)
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def url_for(live_server):
    """An absolute URL on a district's host: url_for(district, "/login/")."""

    def make(district, path: str = "/") -> str:
        return (
            f"http://{district.slug}.{django_settings.BASE_DOMAIN}:{live_server.thread.port}{path}"
        )

    return make


@pytest.fixture
def new_page(browser):
    """Opens a page in a fresh browser context (its own cookies), as a new person would."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def sign_in_as(url_for):
    """Gives a page the session cookie of a user, skipping the sign-in form."""

    def sign_in(page, user):
        client = Client()
        client.force_login(user, backend="accounts.backends.DistrictBackend")
        page.context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                    "url": url_for(user.district),
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )

    return sign_in


@pytest.fixture
def screenshot():
    """Saves a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def assert_accessible(screenshot):
    """Screenshots the page, then fails with axe's report if it finds any violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page, name: str) -> None:
        screenshot(page, name)
        results = axe.run(page)
        if results.violations_count:
            report = results.generate_report()
            print(report)
            pytest.fail(f"axe found accessibility violations on {name}:\n{report}", pytrace=False)

    return check


@pytest.fixture
def admin(district_admin):
    """Ada Admin, the district admin of tests/conftest.py, signs in through the browser."""
    return district_admin
