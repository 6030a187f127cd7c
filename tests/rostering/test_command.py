"""manage.py sync_roster: the diff summary, the run history entry and its exit codes."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from rostering.models import RunStatus, SyncRun
from tests.rostering import roster


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_roster", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def bundle(tmp_path):
    def write(rows, name="roster.zip", **options):
        path = tmp_path / name
        path.write_bytes(roster.zipped(rows, **options))
        return str(path)

    return write


def test_file_sync_prints_the_summary_and_records_the_run(district, bundle):
    out, _ = run_command("--district", "alpha", "--file", bundle(roster.tiny()))

    assert "Applied" in out and "accounts: 5 created" in out and "enrolments: 5 created" in out
    run = SyncRun.objects.get(district=district)
    assert run.status == RunStatus.APPLIED and run.trigger == "command"
    assert run.connection.name == "OneRoster CSV"
    assert User.objects.filter(district=district, managed_by_sis=True).count() == 5


def test_dry_run_writes_nothing(district, bundle):
    out, _ = run_command("--district", "alpha", "--file", bundle(roster.tiny()), "--dry-run")

    assert "Dry run: nothing was written." in out
    assert not User.objects.filter(district=district, managed_by_sis=True).exists()


def test_bad_bundle_exits_1_with_file_line_and_sourced_id(district, bundle):
    rows = roster.changed(roster.tiny(), "users.csv", "s3", role="pupil")

    with pytest.raises(CommandError) as failure:
        run_command("--district", "alpha", "--file", bundle(rows))

    assert failure.value.returncode == 1
    assert "nothing was applied" in str(failure.value)


def test_held_run_exits_3_and_is_approved_by_number(
    district, bundle, django_capture_on_commit_callbacks
):
    run_command("--district", "alpha", "--file", bundle(roster.tiny()))
    fewer = roster.without(roster.tiny(), "users.csv", "s1", "s2")

    with pytest.raises(CommandError) as held:
        run_command("--district", "alpha", "--file", bundle(fewer, "fewer.zip"))
    run = SyncRun.objects.filter(district=district).first()
    # Commits run their callbacks here, as outside a test: nothing else may claim the run.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out, _ = run_command("--district", "alpha", "--approve", str(run.pk))

    assert held.value.returncode == 3 and f"--approve {run.pk}" in str(held.value)
    assert "Applied" in out
    # No task was queued: the command applied the run itself.
    assert not [c for c in callbacks if "run_approve" in c.__qualname__]
    assert User.objects.filter(district=district, status="deactivated").count() == 2


def test_bad_input_exits_2(district, other_district, tmp_path):
    cases = [
        (["--district", "nowhere", "--file", "x.zip"], "No district has the slug"),
        (["--district", "alpha", "--file", str(tmp_path / "missing.zip")], "no such file"),
        (["--district", "alpha"], "has no rostering connection"),
        (["--district", "alpha", "--approve", "999"], "has no run 999"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as failure:
            run_command(*args)
        assert message in str(failure.value)


def test_cannot_approve_another_districts_run(district, other_district, bundle):
    run_command("--district", "bravo", "--file", bundle(roster.tiny()))
    theirs = SyncRun.objects.get(district=other_district)

    with pytest.raises(CommandError) as failure:
        run_command("--district", "alpha", "--approve", str(theirs.pk))

    assert f"has no run {theirs.pk}" in str(failure.value)
