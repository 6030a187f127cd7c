"""`manage.py bulk_action`: people chosen by filters or a file, the preview of a dry run,
the run and its history entry, undo, refusals that write nothing, and the one district it
acts in."""

import io
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent, Role, Status, User
from bulkactions.models import BulkAction, BulkActionStatus, ItemOutcome
from tests.factories import UserFactory


@dataclass
class Run:
    out: str
    err: str
    returncode: int
    message: str = ""  # the CommandError's, which manage.py prints to stderr


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def bulk_action(folder, django_capture_on_commit_callbacks):
    """Runs the command; `file` is written as people.csv and passed as --select-file."""

    def run(*args, file=None, district="alpha") -> Run:
        if file is not None:
            path = folder / "people.csv"
            path.write_bytes(file if isinstance(file, bytes) else file.encode())
            args = (*args, f"--select-file={path}")
        out, err = io.StringIO(), io.StringIO()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                call_command("bulk_action", *args, f"--district={district}", stdout=out, stderr=err)
        except CommandError as error:
            return Run(out.getvalue(), err.getvalue(), error.returncode, str(error))
        return Run(out.getvalue(), err.getvalue(), 0)

    return run


@pytest.fixture
def pupils(district, school, second_school, years):
    """Three Year 7 students at Alpha High and one at Beta Academy."""

    def pupil(username, school, year):
        user = UserFactory(
            district=district,
            role=Role.STUDENT,
            username=username,
            email=f"{username}@alpha.example",
            year_group=year,
        )
        user.set_schools([school])
        return user

    return {
        "ann": pupil("ann", school, years[7]),
        "bob": pupil("bob", school, years[7]),
        "cat": pupil("cat", school, years[8]),
        "dan": pupil("dan", second_school, years[7]),
    }


def year_of(user) -> str:
    user.refresh_from_db()
    return user.year_group.name


def nothing_written():
    assert not BulkAction.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="bulkactions.bulk_action").exists()


def test_filter_selection_changes_year_group_and_records_the_action(bulk_action, pupils, years):
    run = bulk_action(
        "year_group",
        "--type=students",
        "--filter=year_group=Year 7",
        "--param=year_group=Year 8",
    )

    assert run.returncode == 0, run.message
    assert [year_of(pupils[name]) for name in ("ann", "bob", "cat", "dan")] == ["Year 8"] * 4
    action = BulkAction.objects.get()
    assert (action.status, action.created_by, action.action) == (
        BulkActionStatus.DONE,
        None,
        "year_group",
    )
    assert (action.total, action.changed_count, action.skipped_count) == (3, 3, 0)
    assert action.selection == "Filter: year_group=Year 7"
    assert action.params == {"year_group": str(years[8].pk)}
    assert "Change year group to Year 8: 3 will change; 0 skipped" in run.out
    assert "Changed: 3\nSkipped: 0\nFailed: 0\n" in run.out
    assert f"Bulk action #{action.pk}: http" in run.out
    updated = AuditEvent.objects.filter(action="accounts.user.updated")
    assert sorted(updated.values_list("target_id", flat=True)) == sorted(
        pupils[name].pk for name in ("ann", "bob", "dan")
    )
    assert updated.first().after["year_group_id"] == years[8].pk
    assert AuditEvent.objects.filter(
        action="bulkactions.bulk_action.finished", target_id=action.pk
    ).exists()


def test_select_file_of_emails_and_usernames_reports_lines_that_matched_nobody(
    bulk_action, pupils, teacher
):
    file = "Email\nann@alpha.example\nBOB\nnobody@alpha.example\nann\ntom.teacher\n"

    run = bulk_action("deactivate", "--type=students", file=file)

    assert run.returncode == 1
    assert "3 lines of the file matched nobody" in run.message
    assert "Selection: 2 matched, 3 of 5 lines matched nobody" in run.out
    assert "Line 4: nobody@alpha.example: No account with this email or username\n" in run.out
    assert "Line 5: ann: Duplicate of line 2\n" in run.out
    assert "Line 6: tom.teacher: Not a student\n" in run.out
    statuses = {name: User.objects.get(pk=user.pk).status for name, user in pupils.items()}
    assert statuses == {
        "ann": Status.DEACTIVATED,
        "bob": Status.DEACTIVATED,
        "cat": Status.ACTIVE,
        "dan": Status.ACTIVE,
    }
    teacher.refresh_from_db()
    assert teacher.status == Status.ACTIVE
    assert BulkAction.objects.get().selection == "File: people.csv"


def test_a_headerless_single_column_file_is_read_from_its_first_line(bulk_action, pupils):
    run = bulk_action("deactivate", "--type=students", file="cat\ndan@alpha.example\n")

    assert run.returncode == 0, run.out
    assert BulkAction.objects.get().changed_count == 2


def test_a_school_admin_reaches_only_the_people_of_their_schools(bulk_action, pupils, school_admin):
    run = bulk_action(
        "deactivate", "--type=students", f"--actor={school_admin.username}", file="ann\ndan\n"
    )

    assert run.returncode == 1
    assert "Line 2: dan: Not at one of your schools\n" in run.out
    assert User.objects.get(pk=pupils["dan"].pk).status == Status.ACTIVE
    assert User.objects.get(pk=pupils["ann"].pk).status == Status.DEACTIVATED
    assert BulkAction.objects.get().created_by == school_admin


def test_dry_run_writes_nothing_and_previews_what_the_run_then_does(bulk_action, pupils, years):
    by_id = f"--param=year_group={years[8].pk}"
    args = ("year_group", "--type=students", "--filter=school=Alpha High", by_id)

    dry = bulk_action(*args, "--dry-run")

    assert dry.returncode == 0
    expected = (
        "Change year group to Year 8: 2 will change; 1 skipped: Already in this year group (1)"
    )
    assert expected in dry.out
    assert "Dry run: nothing was changed." in dry.out
    nothing_written()
    assert year_of(pupils["ann"]) == "Year 7"

    run = bulk_action(*args)

    assert expected in run.out
    action = BulkAction.objects.get()
    assert (action.changed_count, action.skipped_count) == (2, 1)
    assert "Skipped: 1: Already in this year group (1)" in run.out


def test_an_unknown_year_group_is_refused_with_the_names(bulk_action, pupils):
    run = bulk_action(
        "year_group", "--type=students", "--filter=status=active", "--param=year_group=Year 12"
    )

    assert run.returncode == 2
    assert 'no year group is named "Year 12"' in run.message
    assert "Year 7" in run.message and "Year 9" in run.message
    nothing_written()


def test_an_unknown_classroom_or_filter_is_refused(bulk_action, pupils, classroom):
    room = bulk_action("deactivate", "--type=students", "--filter=classroom=9Z")
    name = bulk_action("deactivate", "--type=students", "--filter=grade=7")

    assert (room.returncode, name.returncode) == (2, 2)
    assert 'no class is named "9Z". Use one of: 7A, Alpha High' in room.message
    assert "grade: not a filter. Use one of: q, school, year_group" in name.message
    nothing_written()


def test_an_empty_selection_is_refused(bulk_action, pupils):
    run = bulk_action("deactivate", "--type=students", "--filter=q=zzzz")

    assert run.returncode == 2
    assert "nobody to act on" in run.message
    nothing_written()


def test_a_file_whose_lines_all_match_nobody_is_refused(bulk_action, pupils):
    run = bulk_action("deactivate", "--type=students", file="Username\nzed\n")

    assert run.returncode == 2
    assert "Line 2: zed: No account with this email or username" in run.out
    nothing_written()


def test_a_file_with_no_column_of_emails_or_usernames_is_refused(bulk_action, pupils):
    run = bulk_action("deactivate", "--type=students", file="First name,Last name\nAnn,Ames\n")

    assert run.returncode == 2
    assert "No column of emails or usernames was found" in run.message
    assert '"First name", "Last name"' in run.message
    nothing_written()


def test_an_unknown_district_is_refused(bulk_action, pupils):
    run = bulk_action("deactivate", "--type=students", "--filter=q=ann", district="nowhere")

    assert run.returncode == 2
    assert "No district has the slug 'nowhere'" in run.message
    nothing_written()


def test_another_districts_account_in_the_file_matches_nobody(bulk_action, pupils, other_district):
    stranger = UserFactory(
        district=other_district, role=Role.STUDENT, username="ann", email="zoe@bravo.example"
    )

    run = bulk_action("deactivate", "--type=students", file="zoe@bravo.example\nann\n")

    assert run.returncode == 1
    assert "Line 1: zoe@bravo.example: No account with this email or username" in run.out
    stranger.refresh_from_db()
    assert stranger.status == Status.ACTIVE
    assert User.objects.get(pk=pupils["ann"].pk).status == Status.DEACTIVATED
    assert not BulkAction.objects.filter(district=other_district).exists()


def test_deactivate_then_undo_restores(bulk_action, pupils):
    bulk_action("deactivate", "--type=students", "--filter=year_group=Year 7")
    original = BulkAction.objects.get()
    assert User.objects.filter(status=Status.DEACTIVATED).count() == 3

    run = bulk_action("undo", f"--of={original.pk}")

    assert run.returncode == 0, run.message
    assert not User.objects.filter(status=Status.DEACTIVATED).exists()
    undo = BulkAction.objects.get(undo_of=original)
    assert (undo.changed_count, undo.items.filter(outcome=ItemOutcome.CHANGED).count()) == (3, 3)
    assert AuditEvent.objects.filter(action="accounts.user.reactivated").count() == 3
    again = bulk_action("undo", f"--of={original.pk}")
    assert again.returncode == 2
    assert "already been undone" in again.message


def test_staff_are_added_to_a_school_named_by_its_code(bulk_action, teacher, second_school):
    run = bulk_action("school_add", "--type=staff", "--param=school=beta", file="tom.teacher\n")

    assert run.returncode == 0, run.message
    assert second_school in teacher.schools.all()
    missing = bulk_action("school_add", "--type=staff", file="tom.teacher\n")
    assert missing.returncode == 2
    assert "school_add needs --param school=" in missing.message
