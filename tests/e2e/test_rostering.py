"""Settings > Rostering in the browser: create a connection, upload a bundle, see the
sync applied on a real worker, then a bundle that would deactivate too many accounts is
held; the admin reviews the diff, approves it, and reads the status page."""

import pytest
from playwright.sync_api import expect

from accounts.models import Status, User
from tests.rostering import roster

pytestmark = pytest.mark.e2e


def test_admin_connects_uploads_and_approves_a_held_sync(
    page, district, district_admin, url_for, sign_in_as, assert_accessible, celery_worker, tmp_path
):
    first = tmp_path / "roster.zip"
    first.write_bytes(roster.zipped(roster.tiny()))
    fewer = tmp_path / "roster-fewer.zip"
    fewer.write_bytes(roster.zipped(roster.without(roster.tiny(), "users.csv", "s1", "s2")))
    sign_in_as(page, district_admin)

    page.goto(url_for(district, "/settings/rostering/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rostering")
    assert_accessible(page, "rostering-empty")
    page.get_by_role("link", name="New connection").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New connection to your SIS")
    page.get_by_role("button", name="Create the connection").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "rostering-connection-errors")
    page.get_by_label("Name").fill("Lakeside uploads")
    page.get_by_label("OneRoster CSV bundle, uploaded").check()
    page.get_by_label("Only when started by hand").check()
    page.get_by_role("button", name="Create the connection").click()
    expect(page.locator("main")).to_contain_text("Connection “Lakeside uploads” created.")

    page.get_by_role("link", name="Upload a bundle to Lakeside uploads").click()
    assert_accessible(page, "rostering-upload")
    page.get_by_label("OneRoster CSV bundle (.zip)").set_input_files(str(first))
    page.get_by_role("button", name="Upload and sync").click()
    expect(page.locator("#run-status")).to_contain_text("Applied", timeout=30_000)
    expect(page.get_by_role("row", name="Accounts")).to_contain_text("5")
    assert_accessible(page, "rostering-run-applied")

    page.goto(url_for(district, "/settings/rostering/"))
    page.get_by_role("link", name="Upload a bundle to Lakeside uploads").click()
    page.get_by_label("OneRoster CSV bundle (.zip)").set_input_files(str(fewer))
    page.get_by_role("button", name="Upload and sync").click()
    expect(page.locator("#run-status")).to_contain_text("Held for approval", timeout=30_000)
    expect(page.locator("main")).to_contain_text("deactivate 2 of 5 rostered accounts (40%)")
    expect(page.get_by_role("row", name="Sam One")).to_contain_text("Deactivated")
    assert_accessible(page, "rostering-run-held")
    assert User.objects.get(district=district, username="sam.one").status == Status.INVITED

    page.get_by_role("button", name="Approve and apply 4 changes").click()
    expect(page.locator("#run-status")).to_contain_text("Applied", timeout=30_000)
    expect(page.locator(".summary-row", has_text="Approved by")).to_contain_text("Ada Admin")

    page.get_by_role("link", name="Back to rostering").click()
    expect(page.get_by_role("heading", name="Account changes per sync")).to_be_visible()
    expect(page.get_by_role("table").last).to_contain_text("Applied")
    assert_accessible(page, "rostering-status")
    assert User.objects.get(district=district, username="sam.one").status == Status.DEACTIVATED

    page.get_by_role("link", name="Grade mapping").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grade mapping")
    expect(page.get_by_label("05 Grade 5")).to_have_value(
        str(User.objects.get(district=district, username="sia.two").year_group_id)
    )
    assert_accessible(page, "rostering-grades")
