"""`manage.py import_users`: the import pipeline from a terminal, its report, results CSV,
exit codes, refusals that write nothing, and the one district it acts in."""

import csv
import io
import json
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.core.management.base import connections

from accounts.models import AuditEvent, Role, Status, User
from bulkactions.importing.results import credentials
from bulkactions.models import ImportJob, ImportStatus
from tests.factories import SchoolFactory, YearGroupFactory

STUDENTS = """First name,Last name,Email,Year,School,Classes
Sam,Okafor,sam@alpha.example,Year 7,Alpha High,7A
Lia,Chen,lia@alpha.example,8,Beta Academy,
"""
BAD_ROW = "Max,Roe,not-an-email,Year 12,Nowhere,\n"
RENAMED = """Given,Family,Mail,Grade,Campus
Sam,Okafor,sam@alpha.example,Year 7,Alpha High
"""


@pytest.fixture(autouse=True)
def _alpha(years, school, second_school, classroom):
    """Alpha's year groups, two schools and class 7A, which the files above name."""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The current folder, where the results CSV goes by default."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@dataclass
class Run:
    out: str
    err: str
    returncode: int
    message: str = ""  # the CommandError's, which manage.py prints to stderr


@pytest.fixture
def import_users(folder, django_capture_on_commit_callbacks):
    """Runs the command on `content` saved as people.csv, with its queued emails sent."""

    def run(content, *args, district="alpha", kind="students") -> Run:
        path = folder / "people.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out, err = io.StringIO(), io.StringIO()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                call_command(
                    "import_users",
                    str(path),
                    f"--district={district}",
                    f"--type={kind}",
                    *args,
                    stdout=out,
                    stderr=err,
                )
        except CommandError as error:
            return Run(out.getvalue(), err.getvalue(), error.returncode, str(error))
        return Run(out.getvalue(), err.getvalue(), 0)

    return run


def csv_rows(path) -> dict[str, dict[str, str]]:
    """A results CSV's lines by row number."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        return {line["Row"]: line for line in csv.DictReader(file)}


def nothing_lingers():
    """Every job the command started is abandoned, its file and rows gone."""
    assert set(ImportJob.objects.values_list("status", flat=True)) <= {ImportStatus.ABANDONED}
    assert not ImportJob.objects.exclude(file_data=b"").exists()
    assert not ImportJob.objects.filter(rows__isnull=False).exists()


def test_valid_file_creates_accounts_prints_summary_and_writes_results(
    import_users, folder, district, mailoutbox
):
    run = import_users(STUDENTS)

    assert run.returncode == 0
    sam = User.objects.get(district=district, email="sam@alpha.example")
    assert (sam.username, sam.status, sam.year_group.name) == (
        "sam.okafor",
        Status.INVITED,
        "Year 7",
    )
    job = ImportJob.objects.get()
    assert (job.status, job.created_by) == (ImportStatus.DONE, None)
    assert "Checked 2 of 2 rows" in run.err
    assert "Ready: 2\nReady, with warnings: 0\nWith errors: 0\n" in run.out
    assert "Created: 2\nUpdated: 0\nUnchanged: 0\nSkipped: 0\nFailed: 0\n" in run.out
    results_path = folder / f"import-{job.pk}-results.csv"
    assert f"Results: {results_path}\nImport #{job.pk} finished.\n" in run.out
    results = csv_rows(results_path)
    assert (results["2"]["Outcome"], results["2"]["Username"]) == ("Created", "sam.okafor")
    assert results["3"]["Username"] == "lia.chen"
    event = AuditEvent.objects.get(action="accounts.user.created", target_id=sam.pk)
    assert event.actor_label == "System"
    invited = sorted(m.to[0] for m in mailoutbox if m.subject.startswith("Activate"))
    assert invited == ["lia@alpha.example", "sam@alpha.example"]


def test_rows_with_errors_write_nothing_print_messages_and_exit_1(import_users, folder):
    before = User.objects.count()

    run = import_users(STUDENTS + BAD_ROW)

    assert run.returncode == 1
    assert run.message == (
        "1 row with errors, so nothing was written: fix them in the file and run again, "
        "or add --skip-errors to import the other rows."
    )
    assert "Ready: 2\nReady, with warnings: 0\nWith errors: 1\n" in run.out
    row_4 = [line for line in run.out.splitlines() if line.startswith("Row 4: ")]
    assert [line.split(": ")[1] for line in row_4] == ["email", "schools", "year_group"]
    assert row_4[0].endswith("Enter an email address in the correct format, like name@school.org")
    assert "There is no school called “Nowhere”" in row_4[1]
    assert User.objects.count() == before
    nothing_lingers()
    review = csv_rows(folder / f"import-{ImportJob.objects.get().pk}-results.csv")
    assert review["2"]["Status"] == "Ready"
    assert review["4"]["Status"] == "Has errors"
    assert review["4"]["Messages"].startswith("Email: Enter an email address in the correct")


def test_skip_errors_imports_the_valid_rows_and_exits_1(import_users, folder):
    run = import_users(STUDENTS + BAD_ROW, "--skip-errors")

    assert run.returncode == 1
    assert "1 row of people.csv was not imported" in run.message
    assert "Created: 2\nUpdated: 0\nUnchanged: 0\nSkipped: 1\nFailed: 0\n" in run.out
    imported = User.objects.filter(source="import").values_list("username", flat=True)
    assert set(imported) == {"sam.okafor", "lia.chen"}
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.skipped_count) == (ImportStatus.DONE, 2, 1)
    results = csv_rows(folder / f"import-{job.pk}-results.csv")
    assert (results["2"]["Outcome"], results["4"]["Outcome"]) == ("Created", "Skipped")
    assert results["4"]["Message"].startswith("Enter an email address")


def test_skip_errors_with_no_ready_row_writes_nothing(import_users):
    run = import_users(STUDENTS.splitlines()[0] + "\n" + BAD_ROW, "--skip-errors")
    assert run.returncode == 1
    assert run.message.startswith("1 row with errors and none ready, so nothing was written")
    nothing_lingers()


def test_dry_run_writes_no_account_and_prints_the_report(import_users, folder):
    before = User.objects.count()

    run = import_users(STUDENTS, "--dry-run")

    assert run.returncode == 0
    assert User.objects.count() == before
    assert "Ready: 2\n" in run.out
    assert run.out.endswith("Dry run: every row is ready; nothing was written.\n")
    nothing_lingers()
    review = csv_rows(folder / f"import-{ImportJob.objects.get().pk}-results.csv")
    assert review["2"] == {
        "Row": "2",
        "Status": "Ready",
        "First name": "Sam",
        "Last name": "Okafor",
        "Username": "sam.okafor",
        "Email": "sam@alpha.example",
        "Messages": "",
    }


def test_dry_run_with_errors_exits_1(import_users):
    run = import_users(STUDENTS + BAD_ROW, "--dry-run")
    assert (run.returncode, run.message) == (1, "Dry run: 1 row with errors; nothing was written.")
    assert "Row 4: email: Enter an email address" in run.out
    assert not User.objects.filter(source="import").exists()


def test_dry_run_of_set_passwords_needs_no_actor(import_users):
    text = (
        "First name,Last name,Year,School,Password\nSam,Okafor,Year 7,Alpha High,plum-kettle-9341\n"
    )
    run = import_users(text, "--password-mode=set", "--dry-run")
    assert run.returncode == 0
    assert "plum-kettle-9341" not in run.out + run.err
    nothing_lingers()


def test_interrupted_check_abandons_the_import(import_users, monkeypatch):
    from bulkactions.importing import review

    def interrupted(job, run_token, *, on_progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(review, "job_validate", interrupted)
    run = import_users(STUDENTS)
    assert run.returncode == 130
    assert (
        run.message
        == f"Stopped: import #{ImportJob.objects.get().pk} is abandoned and nothing was written."
    )
    nothing_lingers()


def test_update_changes_the_account_matched_by_email(import_users, student, years):
    text = "First name,Last name,Email,Year,School\nSusan,Student,sue@alpha.example,Year 8,Alpha High\n"

    run = import_users(text)
    assert run.returncode == 1
    assert "Row 2: email: " in run.out and "already has this email address" in run.out

    run = import_users(text, "--update")
    assert run.returncode == 0
    student.refresh_from_db()
    assert (student.first_name, student.year_group) == ("Susan", years[8])
    assert "Created: 0\nUpdated: 1\n" in run.out
    assert AuditEvent.objects.filter(action="accounts.user.updated", target_id=student.pk).exists()


def test_unrecognised_columns_are_explained_and_nothing_is_written(import_users):
    run = import_users(RENAMED)
    assert run.returncode == 2
    assert (
        "no column was recognised as First name (first_name), Last name (last_name)" in run.message
    )
    assert 'The file\'s columns: "Given", "Family", "Mail", "Grade", "Campus"' in run.message
    assert '--mapping "Column name=first_name,Column name=last_name"' in run.message
    nothing_lingers()


def test_inline_mapping_names_the_columns(import_users, district):
    # Column names match ignoring case; a field can be named by its label too.
    run = import_users(RENAMED, "--mapping", "Given=first_name, family=Last name")
    assert run.returncode == 0
    sam = User.objects.get(district=district, username="sam.okafor")
    assert (sam.email, sam.school_names) == ("sam@alpha.example", "Alpha High")


def test_mapping_from_a_json_file(import_users, district, folder):
    (folder / "columns.json").write_text(json.dumps({"Given": "first_name", "Family": "last_name"}))
    run = import_users(RENAMED, "--mapping", "columns.json")
    assert run.returncode == 0
    assert User.objects.filter(district=district, username="sam.okafor").exists()


def test_mapping_can_leave_out_a_column(import_users, district):
    text = "First name,Last name,Email,Type\nTia,Tran,tia@alpha.example,Permanent\n"
    assert import_users(text, kind="staff").returncode == 1  # "Type" was taken as the role

    run = import_users(text, "--mapping", "Type=", kind="staff")

    assert run.returncode == 0
    assert User.objects.get(district=district, email="tia@alpha.example").role == Role.TEACHER


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (
            "Given=firstname_x",
            '"firstname_x" is not a field of a students import. Use one of: first_name, '
            "last_name, email, username, schools, year_group, classrooms, sis_id",
        ),
        ("Nickname=first_name", 'the file has no column "Nickname". Its columns: "Given"'),
        ("Given", '"Given" is not Column=field'),
        ("Given=first_name,Family=first_name", 'first_name is given for both "Given" and "Family"'),
        ("missing.json", "--mapping: cannot read missing.json"),
    ],
)
def test_bad_mapping_is_refused_with_what_to_write(import_users, mapping, expected):
    run = import_users(RENAMED, "--mapping", mapping)
    assert run.returncode == 2
    assert expected in run.message
    assert not ImportJob.objects.exists()


def test_mapping_file_that_is_not_json_is_refused(import_users, folder):
    (folder / "columns.json").write_text("Given: first_name")
    run = import_users(RENAMED, "--mapping", "columns.json")
    assert run.returncode == 2
    assert "--mapping: columns.json is not valid JSON" in run.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "people.csv: The selected file is empty."),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "is not a CSV or Excel file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "This is an old Excel (.xls) file"),
        (b"First name,Last name,Email,Year\n", "The file has column names but no rows"),
    ],
)
def test_file_that_is_not_an_import_is_refused(import_users, content, expected):
    before = User.objects.count()
    run = import_users(content)
    assert run.returncode == 2
    assert expected in run.message
    assert User.objects.count() == before
    nothing_lingers()


def test_file_too_big_is_refused_before_it_is_read(import_users, settings):
    settings.IMPORT_MAX_FILE_MB = 0
    run = import_users(STUDENTS)
    assert run.returncode == 2
    assert "it must be smaller than 0 MB" in run.message
    assert not ImportJob.objects.exists()


def test_file_with_too_many_rows_is_refused(import_users, settings):
    settings.IMPORT_MAX_ROWS = 1
    run = import_users(STUDENTS)
    assert run.returncode == 2
    assert "people.csv: The file has more than 1 rows: split it" in run.message
    assert not User.objects.filter(source="import").exists()
    nothing_lingers()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("nowhere.csv", "nowhere.csv: no such file"),
        (".", ". is a folder: give the path of a CSV or .xlsx file"),
    ],
)
def test_missing_file_or_folder_is_refused(district, folder, path, expected):
    with pytest.raises(CommandError) as refused:
        call_command("import_users", path, "--district=alpha", "--type=staff")
    assert refused.value.returncode == 2
    assert expected in str(refused.value)
    assert not ImportJob.objects.exists()


def test_unknown_district_is_refused(import_users, other_district):
    run = import_users(STUDENTS, district="gamma")
    assert run.returncode == 2
    assert "No district has the slug 'gamma'. Known districts: alpha, bravo" in run.message
    assert not ImportJob.objects.exists()


def test_results_folder_that_does_not_exist_is_refused_before_anything_runs(import_users):
    run = import_users(STUDENTS, "--results", "no/such/folder/out.csv")
    assert run.returncode == 2
    assert "--results no/such/folder/out.csv: its folder does not exist." in run.message
    assert not ImportJob.objects.exists()


def test_results_go_to_the_file_or_folder_asked_for(import_users, folder):
    (folder / "out").mkdir()
    assert import_users(STUDENTS, "--results", "out/mine.csv").returncode == 0
    assert csv_rows(folder / "out" / "mine.csv")["2"]["Username"] == "sam.okafor"

    run = import_users(STUDENTS, "--results", "out", "--dry-run")
    job = ImportJob.objects.order_by("pk").last()
    assert f"Checked rows: {folder / 'out' / f'import-{job.pk}-results.csv'}" in run.out


def test_staff_cannot_get_set_passwords(import_users):
    run = import_users(STUDENTS, "--password-mode=set", kind="staff")
    assert run.returncode == 2
    assert "Staff always choose their own password" in run.message


def test_set_passwords_need_an_actor(import_users):
    run = import_users(STUDENTS, "--password-mode=set")
    assert run.returncode == 2
    assert "--password-mode set needs --actor USERNAME" in run.message
    assert not ImportJob.objects.exists()


def test_set_passwords_create_active_accounts_and_print_no_password(
    import_users, district, district_admin
):
    text = (
        "First name,Last name,Year,School,Password\n"
        "Sam,Okafor,Year 7,Alpha High,plum-kettle-9341\n"
        "Lia,Chen,Year 8,Alpha High,\n"
    )
    run = import_users(text, "--password-mode=set", "--actor=ADA.admin")

    assert run.returncode == 0
    sam = User.objects.get(district=district, username="sam.okafor")
    lia = User.objects.get(district=district, username="lia.chen")
    assert sam.status == lia.status == Status.ACTIVE
    assert sam.check_password("plum-kettle-9341")
    job = ImportJob.objects.get()
    assert job.created_by == district_admin
    passwords = {c["password"] for c in credentials(job)}
    assert "plum-kettle-9341" in passwords and len(passwords) == 2
    assert not any(password in run.out + run.err for password in passwords)
    assert "Prepared 2 of 2 passwords" in run.err
    assert "Passwords: ada.admin can see and print them until " in run.out
    assert f"/settings/imports/{job.pk}/credentials/" in run.out


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("nobody", "--actor nobody: no account in alpha has this username."),
        ("tom.teacher", "--actor tom.teacher is a teacher: give the username of a district"),
    ],
)
def test_actor_must_be_an_admin_of_the_district(import_users, teacher, username, expected):
    run = import_users(STUDENTS, "--actor", username)
    assert run.returncode == 2
    assert expected in run.message
    assert not ImportJob.objects.exists()


def test_admin_of_another_district_cannot_be_the_actor(
    import_users, district_admin, other_district
):
    run = import_users(STUDENTS, "--actor=ada.admin", district="bravo")
    assert run.returncode == 2
    assert "--actor ada.admin: no account in bravo has this username." in run.message


def test_school_of_another_district_is_a_row_error_and_nothing_is_created_there(
    import_users, other_district
):
    SchoolFactory(district=other_district, name="Bravo School")
    before = User.objects.filter(district=other_district).count()

    run = import_users(STUDENTS + "Max,Roe,max@alpha.example,Year 7,Bravo School,\n")

    assert run.returncode == 1
    assert "Row 4: schools: There is no school called “Bravo School”" in run.out
    assert User.objects.filter(district=other_district).count() == before
    assert not User.objects.filter(email="max@alpha.example").exists()


def test_district_option_touches_only_that_district(
    import_users, district, other_district, district_admin, other_admin
):
    SchoolFactory(district=other_district, name="Bravo School")
    YearGroupFactory(district=other_district, name="Year 7", ordinal=7)
    alpha_before = set(User.objects.filter(district=district).values_list("pk", "updated_at"))
    # The email of Alpha's admin: in Bravo it is someone new, not a clash.
    staff = "First name,Last name,Email,School\nAda,Admin,ada@alpha.example,Bravo School\n"

    run = import_users(staff, "--actor=bea.admin", district="bravo", kind="staff")

    assert run.returncode == 0
    created = User.objects.get(district=other_district, email="ada@alpha.example")
    assert (created.role, created.school_names) == (Role.TEACHER, "Bravo School")
    assert (
        set(User.objects.filter(district=district).values_list("pk", "updated_at")) == alpha_before
    )
    assert ImportJob.objects.get().district == other_district
    assert not AuditEvent.objects.filter(district=district).exists()


@pytest.mark.parametrize(
    ("content", "returncode"), [(STUDENTS, 0), (STUDENTS + BAD_ROW, 1), (b"", 2)]
)
def test_exit_code_from_the_command_line(
    folder, district, monkeypatch, capsys, content, returncode
):
    # run_from_argv closes the connections at the end; the test's transaction needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    (folder / "people.csv").write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = ["manage.py", "import_users", "people.csv", "--district=alpha", "--type=students"]

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
        raise SystemExit(0)

    assert exited.value.code == returncode
    if returncode:
        assert "\nCommandError: " in "\n" + capsys.readouterr().err
