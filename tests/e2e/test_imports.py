"""Settings > Imports in the browser: upload a file with errors, look at the errors only,
fix a row inline, create the accounts, watch the progress, then the summary email and
the credentials page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from bulkactions.models import ImportJob, ImportStatus
from tests.factories import YearGroupFactory

pytestmark = pytest.mark.e2e

ROWS = 120  # enough for the worker to be seen working on the passwords


def _file(tmp_path):
    lines = ["First name,Last name,Year,School,Password"]
    for n in range(ROWS):
        lines.append(f"Pupil{n},Zoë Example,Year 7,Alpha High,")
    lines.append("Max,Roe,Year 12,Alpha High,")  # no such year group
    path = tmp_path / "new-students.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_admin_imports_students_fixes_a_row_and_prints_their_slips(
    page,
    district,
    school,
    district_admin,
    url_for,
    sign_in_as,
    assert_accessible,
    screenshot,
    tmp_path,
    celery_worker,
    settings,
):
    settings.BULK_WRITE_THREADS = 2  # the live server commits for real, as in production
    YearGroupFactory(district=district, ordinal=7, name="Year 7")
    YearGroupFactory(district=district, ordinal=8, name="Year 8")
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/imports/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    assert_accessible(page, "imports-list-empty")
    page.get_by_role("link", name="New import").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff or students")
    page.get_by_role("button", name="Upload and check the file").click()
    expect(page.locator(".error-summary")).to_contain_text("Select a CSV or Excel file")
    assert_accessible(page, "import-new-errors")

    page.get_by_label("Students", exact=True).check()
    page.get_by_label(re.compile("^Teacher-set passwords")).check()
    page.get_by_label("Upload a file").set_input_files(str(_file(tmp_path)))
    page.get_by_role("button", name="Upload and check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review the rows", timeout=30_000)
    expect(page.locator("#import-totals")).to_contain_text("1 with errors")
    assert_accessible(page, "import-review")
    page.get_by_role("link", name="Show only rows with errors (1)").click()
    expect(page.locator("caption")).to_contain_text("1 row with errors")
    row = page.locator("#row-122")
    expect(row).to_contain_text("Enter a year group of this district: Year 7, Year 8")

    row.get_by_role("button", name="Edit row 122").click()
    year = page.get_by_label("Year group")
    expect(year).to_be_focused()
    assert_accessible(page, "import-row-editing")
    year.fill("Year 8")
    page.get_by_role("button", name="Save row 122").click()
    expect(page.locator("#review-status")).to_have_text("Row 122 fixed. 0 rows with errors left.")
    expect(page.get_by_role("button", name="Edit row 122")).to_be_focused()
    expect(page.locator("#import-totals")).to_contain_text("0 with errors")
    screenshot(page, "import-row-fixed")

    page.get_by_role("button", name=f"Create {ROWS + 1} accounts").click()
    results = page.get_by_role("heading", level=1, name=f"{ROWS + 1} accounts created")
    progress = page.locator("progress#import-progress")
    if celery_worker is not None:  # a real worker: the page shows the work in progress
        expect(progress).to_be_visible()
        assert_accessible(page, "import-progress")
    expect(results).to_be_visible(timeout=60_000)
    expect(results).to_be_focused()
    assert_accessible(page, "import-results")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE
    assert User.objects.filter(district=district, last_name="Zoë Example").count() == ROWS

    page.goto(url_for(district, "/dev/outbox/"))
    page.get_by_role("link", name=re.compile(r"^Import finished: 121 accounts created")).click()
    body = page.locator("pre.email-text")
    expect(body).to_contain_text("Created: 121")
    with page.expect_download() as attachment:
        page.get_by_role("link", name=re.compile(r"created-accounts\.csv$")).click()
    assert "pupil0.zoeexample" in open(attachment.value.path(), encoding="utf-8-sig").read()
    body.locator("a[href*='/credentials/']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Sign-in details for new-students.csv"
    )
    assert_accessible(page, "import-credentials")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download sign-in slips (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_admin_matches_unknown_columns_by_hand(
    page, district, school, district_admin, url_for, sign_in_as, assert_accessible, tmp_path
):
    YearGroupFactory(district=district, ordinal=7, name="Year 7")
    path = tmp_path / "export.csv"
    path.write_text(
        "Vorname,Nachname,Mail,Stufe,Schule\nSam,Okafor,sam@alpha.example,Year 7,Alpha High\n",
        encoding="utf-8",
    )
    sign_in_as(page, district_admin)
    page.goto(url_for(district, "/settings/imports/new/"))
    page.get_by_label("Students", exact=True).check()
    page.get_by_label("Upload a file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Match the columns")
    expect(page.locator("main")).to_contain_text("Okafor")
    assert_accessible(page, "import-mapping")
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Choose the column that holds the first name"
    )
    assert_accessible(page, "import-mapping-errors")
    for column, field in (
        ("Vorname", "First name"),
        ("Nachname", "Last name"),
        ("Mail", "Email"),
        ("Stufe", "Year group"),
        ("Schule", "School"),
    ):
        page.get_by_label(column).select_option(label=field)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review the rows", timeout=30_000)
    expect(page.locator("#import-totals")).to_contain_text("1 ready")
