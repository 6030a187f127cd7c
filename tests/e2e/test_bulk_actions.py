"""Settings > Bulk actions in the browser: the history, one action's results, undo."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role, Status, User
from bulkactions import services
from tests.factories import UserFactory, YearGroupFactory

pytestmark = pytest.mark.e2e


def test_admin_reads_a_bulk_action_and_undoes_it(
    page, district, district_admin, url_for, sign_in_as, assert_accessible, settings
):
    year7 = YearGroupFactory(district=district, ordinal=7, name="Year 7")
    year8 = YearGroupFactory(district=district, ordinal=8, name="Year 8")
    for n in range(4):
        UserFactory(
            district=district,
            role=Role.STUDENT,
            year_group=year7,
            first_name="Pupil",
            last_name=f"Séverine{n}",
            username=f"pupil{n}",
        )
    UserFactory(district=district, role=Role.STUDENT, year_group=year8, username="already8")
    action = services.bulk_action_start(
        district=district,
        actor=district_admin,
        kind="students",
        action="year_group",
        params={"year_group": year8.pk},
        users=User.objects.filter(district=district, role=Role.STUDENT),
        selection="Filter: Year 7 and Year 8",
        enqueue=False,
    )
    services.bulk_action_run(action, action.run_token)
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/bulk-actions/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk actions")
    assert_accessible(page, "bulk-actions-history")
    page.get_by_role("link", name="Change year group to Year 8").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change year group to Year 8")
    expect(page.locator(".summary-list")).to_contain_text("4 changed, 1 skipped, 0 failed, of 5")
    expect(page.get_by_role("row", name="already8")).to_contain_text("Already in this year group")
    assert_accessible(page, "bulk-action-detail")
    page.get_by_role("button", name="Undo for 4 people").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Undo bulk action #{action.pk}")
    expect(page.locator(".summary-list")).to_contain_text("4 changed, 0 skipped, 0 failed, of 4")
    assert_accessible(page, "bulk-action-undone")
    assert User.objects.filter(year_group=year7, last_name__startswith="Séverine").count() == 4
    assert not User.objects.filter(status=Status.DEACTIVATED).exists()


def test_admin_moves_a_filtered_year_group_through_the_wizard_and_undoes_it(
    page,
    district,
    school,
    district_admin,
    url_for,
    sign_in_as,
    assert_accessible,
    celery_worker,
):
    year7 = YearGroupFactory(district=district, ordinal=7, name="Year 7")
    year8 = YearGroupFactory(district=district, ordinal=8, name="Year 8")
    for n in range(60):  # more than one page: "select all matching" is needed
        pupil = UserFactory(
            district=district,
            role=Role.STUDENT,
            year_group=year7,
            first_name="Mover",
            last_name=f"Number{n:02d}",
            username=f"mover{n}",
        )
        pupil.set_schools([school])
    stayer = UserFactory(district=district, role=Role.STUDENT, year_group=year8, username="stayer")
    stayer.set_schools([school])
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/students/"))
    page.get_by_label("Year group").select_option(label="Year 7")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_label("Select all 50 on this page").check()
    page.get_by_role("button", name="Select all 60 matching").click()
    page.get_by_role("button", name="Bulk action…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check who is selected")
    expect(page.locator("main")).to_contain_text("60 students match the list's filters")
    assert_accessible(page, "wizard-selection")
    page.get_by_role("button", name="Remove Mover Number00 from the selection").click()
    expect(page.locator("main")).to_contain_text("59 students match the list's filters, less 1")
    page.get_by_role("link", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("What do you want to do")
    assert_accessible(page, "wizard-action")
    page.get_by_label("Change year group").check()
    page.get_by_role("button", name="Continue").click()

    year = page.get_by_label("Which year group should they move to?")
    assert_accessible(page, "wizard-details")
    year.select_option(label="Year 8")
    expect(page.locator("#preview")).to_have_text("59 students will move to Year 8.")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check before you run it")
    assert_accessible(page, "wizard-confirm")
    page.get_by_role("button", name="Move 59 students to Year 8").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Change year group to Year 8")
    # On a real worker the page polls its progress, then reloads with the results.
    expect(page.locator(".summary-list")).to_contain_text(
        "59 changed, 0 skipped, 0 failed, of 59", timeout=30_000
    )
    expect(page.locator("progress")).to_have_count(0)
    assert User.objects.filter(year_group=year8, last_name__startswith="Number").count() == 59
    assert User.objects.get(username="mover0").year_group == year7

    # A second submit of the same draft (another tab) goes to the same action.
    page.go_back()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change year group to Year 8")
    page.get_by_role("button", name="Undo for 59 people").click()
    expect(page.locator(".summary-list")).to_contain_text("59 changed", timeout=30_000)
    assert User.objects.filter(year_group=year7, last_name__startswith="Number").count() == 60


def test_admin_runs_the_annual_rollover_and_sees_it_greyed_out(
    page, district, school, district_admin, url_for, sign_in_as, assert_accessible
):
    y9 = YearGroupFactory(district=district, ordinal=9, name="Year 9")
    y8 = YearGroupFactory(district=district, ordinal=8, name="Year 8", next=y9)
    for n, year in enumerate([y8, y8, y9]):
        pupil = UserFactory(district=district, role=Role.STUDENT, year_group=year, username=f"r{n}")
        pupil.set_schools([school])
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/bulk-actions/"))
    page.get_by_role("link", name="Annual rollover").click()
    expect(page.get_by_role("row", name="Year 8")).to_contain_text("Year 9")
    expect(page.get_by_role("row", name="Year 8")).to_contain_text("2")
    assert_accessible(page, "rollover-before")
    page.get_by_role("button", name="Roll over 3 students at Alpha High").click()
    expect(page.locator(".summary-list")).to_contain_text("3 changed", timeout=30_000)
    page.goto(url_for(district, "/settings/bulk-actions/rollover/"))
    expect(page.locator(".rollover-done")).to_contain_text("The next rollover opens on")
    expect(page.get_by_role("button", name="Roll over 3 students at Alpha High")).to_have_count(0)
    assert_accessible(page, "rollover-after")
    assert User.objects.filter(status=Status.DEACTIVATED).count() == 1
