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
