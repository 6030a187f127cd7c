"""The sync, through its services: first sync, unchanged re-sync, promotion, leavers,
teacher moves, class renames, guardian links, threshold hold and approval, dry runs,
linking manual accounts, and every kind of bad bundle failing whole."""

import pytest

from accounts.models import AuditEvent, GuardianLink, Role, Source, Status, User
from rostering import services
from rostering.models import RosterConnection, RunStatus, SyncChange, SyncRun, Trigger
from rostering.models import RosterRecord as RosterRecordModel
from rostering.oneroster import spec
from schools.models import Classroom, Enrollment, School, Term, YearGroup
from tests.factories import UserFactory
from tests.rostering import roster


@pytest.fixture
def connection(district):
    return services.connection_create(
        district=district, actor=None, name="SIS", kind="csv_upload", schedule="manual"
    )


def sync(connection, rows=None, *, data=None, version=spec.V1_1, dry_run=False, approve=False):
    data = data if data is not None else roster.zipped(rows, version)
    run = services.run_start(
        connection=connection,
        actor=None,
        trigger=Trigger.COMMAND,
        dry_run=dry_run,
        bundle=data,
        bundle_name="bundle.zip",
        enqueue=False,
    )
    assert services.run_claim(run)
    run = services.run_execute(run=run)
    if approve and run.status == RunStatus.HELD:
        services.run_approve(run=run, actor=None, enqueue=False)
        assert services.run_claim(run)
        run = services.run_execute(run=run, approved=True)
    return run


def user(district, username) -> User:
    return User.objects.get(district=district, username=username)


@pytest.mark.parametrize("version", [spec.V1_1, spec.V1_2])
def test_first_sync_creates_schools_terms_classes_accounts_and_enrolments(
    district, connection, version
):
    run = sync(connection, roster.tiny(version), version=version)

    assert run.status == RunStatus.APPLIED, run.errors
    assert run.counts["user"] == {"created": 5}
    school = School.objects.get(district=district, sis_id="org-s1")
    assert school.name == "Lakeside Primary" and school.code == "LP"
    assert Term.objects.get(district=district, sis_id="as-t1").parent.sis_id == "as-2026"
    sam = user(district, "sam.one")
    assert (sam.role, sam.first_name, sam.status) == (Role.STUDENT, "Sam", Status.INVITED)
    assert sam.managed_by_sis and sam.source == Source.ROSTER and sam.sis_id == "S1"
    assert sam.year_group.grade_code == "05" and sam.year_ordinal == sam.year_group.ordinal
    assert list(sam.schools.all()) == [school] and sam.school_names == "Lakeside Primary"
    assert not sam.has_usable_password()
    assert user(district, "gail.one").role == Role.GUARDIAN
    maths = Classroom.objects.get(district=district, sis_id="cl-1")
    assert maths.name == "Maths 5A" and maths.term.sis_id == "as-t1"
    assert set(maths.enrollments.values_list("student__username", flat=True)) == {
        "sam.one",
        "sia.two",
    }
    assert list(maths.teachers.values_list("username", flat=True)) == ["tina.teach"]
    assert GuardianLink.objects.filter(
        guardian__username="gail.one", student__username="sam.one", managed_by_sis=True
    ).exists()
    created = AuditEvent.objects.filter(district=district, action="accounts.user.created")
    assert created.count() == 5


def test_same_data_twice_changes_nothing(district, connection):
    sync(connection, roster.tiny())
    events = AuditEvent.objects.filter(district=district).count()

    run = sync(connection, roster.tiny())

    assert run.status == RunStatus.APPLIED
    assert run.counts["user"] == {"unchanged": 5}
    assert run.counts["enrollment"].get("created", 0) == 0
    assert run.counts["enrollment"].get("removed", 0) == 0
    assert not SyncChange.objects.filter(run=run).exists()
    # Only the run's own start is recorded: no account was touched.
    assert AuditEvent.objects.filter(district=district).count() == events + 1


def test_promotion_moves_students_to_the_next_year_group(district, connection):
    sync(connection, roster.tiny())
    rows = roster.tiny()
    for row in rows["users.csv"]:
        if row["grades"]:
            row["grades"] = f"{int(row['grades']) + 1:02d}"

    run = sync(connection, rows, approve=True)

    assert run.status == RunStatus.APPLIED
    assert user(district, "sam.one").year_group.grade_code == "06"
    assert user(district, "sol.three").year_group.grade_code == "05"
    change = SyncChange.objects.get(run=run, sourced_id="s1")
    assert change.action == "update" and "year_group_id" in change.fields


def test_leavers_are_deactivated_and_lose_their_classes_after_approval(district, connection):
    sync(connection, roster.tiny())
    sam = user(district, "sam.one")
    version = sam.session_version

    held = sync(connection, roster.without(roster.tiny(), "users.csv", "s1"))

    assert held.status == RunStatus.HELD
    assert "deactivate 1 of 5 rostered accounts (20%)" in held.hold_reason
    assert user(district, "sam.one").status == Status.INVITED  # nothing applied yet
    services.run_approve(run=held, actor=None, enqueue=False)
    assert services.run_claim(held)
    run = services.run_execute(run=held, approved=True)

    sam.refresh_from_db()
    assert run.status == RunStatus.APPLIED
    assert sam.status == Status.DEACTIVATED and sam.deactivated_at is not None
    assert sam.session_version == version + 1
    assert not Enrollment.objects.filter(student=sam).exists()
    assert AuditEvent.objects.filter(action="accounts.user.deactivated", target_id=sam.pk).exists()


def test_a_returning_student_is_reactivated(district, connection):
    sync(connection, roster.tiny())
    sync(connection, roster.without(roster.tiny(), "users.csv", "s1"), approve=True)

    run = sync(connection, roster.tiny())

    assert run.status == RunStatus.APPLIED
    assert user(district, "sam.one").status == Status.INVITED
    assert run.counts["user"]["restored"] == 1


def test_class_rename_and_teacher_move(district, connection):
    sync(connection, roster.tiny())
    rows = roster.changed(roster.tiny(), "classes.csv", "cl-1", title="Numeracy 5A")
    rows = roster.changed(rows, "enrollments.csv", "e4", userSourcedId="t2")
    rows["users.csv"].append(
        {**rows["users.csv"][0], "sourcedId": "t2", "username": "ted.two", "email": ""}
    )

    run = sync(connection, rows)

    assert run.status == RunStatus.APPLIED, run.errors
    assert Classroom.objects.get(sis_id="cl-1").name == "Numeracy 5A"
    cl2 = Classroom.objects.get(sis_id="cl-2")
    assert list(cl2.teachers.values_list("username", flat=True)) == ["ted.two"]


def test_a_class_gone_from_the_bundle_is_archived(district, connection):
    sync(connection, roster.tiny())
    rows = roster.without(roster.tiny(), "classes.csv", "cl-2")
    rows["enrollments.csv"] = [r for r in rows["enrollments.csv"] if r["classSourcedId"] != "cl-2"]

    run = sync(connection, rows, approve=True)

    assert run.status == RunStatus.APPLIED
    assert Classroom.objects.get(sis_id="cl-2").archived_at is not None


def test_dry_run_writes_nothing_but_shows_the_diff(district, connection):
    run = sync(connection, roster.tiny(), dry_run=True)

    assert run.status == RunStatus.PREVIEWED
    assert run.counts["user"] == {"created": 5}
    assert not User.objects.filter(district=district, managed_by_sis=True).exists()
    assert not Classroom.objects.filter(district=district).exists()
    assert SyncChange.objects.filter(run=run, entity="user", action="create").count() == 5


def test_manual_account_with_the_same_email_is_linked_once(district, connection):
    manual = UserFactory(
        district=district, role=Role.TEACHER, username="tina.old", email="TINA@sis.example"
    )

    run = sync(connection, roster.tiny())

    manual.refresh_from_db()
    assert run.counts["user"]["linked"] == 1 and run.counts["user"]["created"] == 4
    assert manual.managed_by_sis and manual.username == "tina.teach"
    assert manual.has_usable_password()  # their password and sign-ins are kept


def test_ambiguous_email_creates_a_new_account_and_shared_emails_are_allowed(district, connection):
    UserFactory(district=district, role=Role.STUDENT, username="other", email="gail@home.example")
    rows = roster.tiny()
    rows["users.csv"].append(
        {**rows["users.csv"][4], "sourcedId": "g2", "username": "glen.one", "agentSourcedIds": ""}
    )

    run = sync(connection, rows)

    assert run.status == RunStatus.APPLIED, run.errors
    # A student account with the guardian's email is not a match (another role).
    assert User.objects.filter(district=district, email__iexact="gail@home.example").count() == 3


def test_taken_username_gets_a_number_and_a_warning(district, connection):
    UserFactory(district=district, username="sam.one", email="")

    run = sync(connection, roster.tiny())

    assert User.objects.filter(district=district, username="sam.one2", managed_by_sis=True).exists()
    assert any("sam.one2" in w["message"] for w in run.warnings)


def test_grade_mapping_decides_the_year_group(district, connection, district_admin):
    year5 = YearGroup.objects.create(district=district, ordinal=5, name="Year 6")
    services.grade_mapping_set(
        district=district, actor=district_admin, mapping={"05": str(year5.pk)}
    )

    sync(connection, roster.tiny())

    assert user(district, "sam.one").year_group == year5


def test_delta_tobedeleted_deactivates_only_that_user(district, connection):
    sync(connection, roster.tiny())
    rows = {"users.csv": [dict(roster.tiny()["users.csv"][2], status="tobedeleted")]}
    rows["users.csv"][0]["dateLastModified"] = "2026-01-02T00:00:00Z"

    run = sync(connection, rows, data=roster.zipped(rows, modes={"users": "delta"}), approve=True)

    assert run.status == RunStatus.APPLIED, run.errors
    assert user(district, "sia.two").status == Status.DEACTIVATED
    assert user(district, "sam.one").status == Status.INVITED


def test_bom_and_crlf_are_read(district, connection):
    run = sync(connection, data=roster.zipped(roster.tiny(), bom=True, crlf=True))

    assert run.status == RunStatus.APPLIED, run.errors


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: roster.zipped(roster.tiny())[:300], "not a complete zip file"),
        (lambda: b"", "empty"),
        (lambda: roster.zipped(roster.tiny(), omit_files=("users.csv",)), "has no users.csv"),
        (
            lambda: roster.zipped(roster.changed(roster.tiny(), "users.csv", "s1", role="pupil")),
            "role is 'pupil'",
        ),
        (
            lambda: roster.zipped(roster.changed(roster.tiny(), "users.csv", "s1", grades="5")),
            "write 05",
        ),
        (
            lambda: roster.zipped(
                roster.changed(roster.tiny(), "enrollments.csv", "e2", userSourcedId="ghost")
            ),
            "userSourcedId ghost is not in users.csv",
        ),
        (
            lambda: roster.zipped(roster.changed(roster.tiny(), "users.csv", "s2", sourcedId="s1")),
            "appears twice",
        ),
        (
            lambda: roster.zipped(roster.changed(roster.tiny(), "users.csv", "s1", givenName="")),
            "givenName must not be blank",
        ),
        (
            lambda: roster.zipped(
                roster.tiny(), extra_files={"users.csv": b"sourcedId,username\r\ns1,sam\r\n"}
            ),
            "The header lacks the columns",
        ),
    ],
    ids=[
        "truncated",
        "empty",
        "missing-file",
        "vocabulary",
        "grade",
        "dangling",
        "duplicate",
        "blank",
        "columns",
    ],
)
def test_bad_bundle_fails_whole_with_a_precise_message(district, connection, make, expected):
    run = sync(connection, data=make())

    assert run.status == RunStatus.FAILED
    text = " ".join(f"{e['file']} {e['line']} {e['sourced_id']} {e['message']}" for e in run.errors)
    assert expected in text
    assert not User.objects.filter(district=district, managed_by_sis=True).exists()
    assert not School.objects.filter(district=district).exclude(sis_id="").exists()


def test_failure_names_file_line_and_sourced_id(district, connection):
    data = roster.zipped(roster.changed(roster.tiny(), "users.csv", "s3", role="pupil"))

    run = sync(connection, data=data)

    error = run.errors[0]
    assert (error["file"], error["line"], error["sourced_id"]) == ("users.csv", 5, "s3")


def test_a_failed_resync_changes_nothing_already_there(district, connection):
    sync(connection, roster.tiny())
    bad = roster.changed(roster.tiny(), "users.csv", "s1", givenName="Samuel")
    bad = roster.changed(bad, "enrollments.csv", "e5", classSourcedId="ghost")

    run = sync(connection, bad)

    assert run.status == RunStatus.FAILED
    assert user(district, "sam.one").first_name == "Sam"


def test_sync_never_touches_another_district(district, other_district, connection):
    other = services.connection_create(
        district=other_district, actor=None, name="SIS", kind="csv_upload", schedule="manual"
    )
    sync(other, roster.tiny())

    run = sync(connection, roster.tiny())

    assert run.counts["user"] == {"created": 5}
    assert User.objects.filter(district=other_district, managed_by_sis=True).count() == 5
    assert User.objects.filter(district=district, managed_by_sis=True).count() == 5
    gail = user(district, "gail.one")
    assert not GuardianLink.objects.filter(guardian=gail, student__district=other_district).exists()


def test_two_syncs_of_a_district_never_run_at_once(district, connection):
    first = services.run_start(
        connection=connection, actor=None, trigger=Trigger.COMMAND,
        bundle=roster.zipped(roster.tiny()), enqueue=False,
    )  # fmt: skip
    second = services.run_start(
        connection=connection, actor=None, trigger=Trigger.COMMAND,
        bundle=roster.zipped(roster.tiny()), enqueue=False,
    )  # fmt: skip
    assert services.run_claim(first)

    assert not services.run_claim(second)
    second.refresh_from_db()
    assert second.status == RunStatus.QUEUED


def test_activation_emails_follow_the_connection(district, connection, mailoutbox):
    connection.activation_emails = "send"
    connection.save()

    sync(connection, roster.tiny())

    sent_to = sorted(address for message in mailoutbox for address in message.to)
    assert "tina@sis.example" in sent_to and "sam@sis.example" in sent_to
    assert all(
        "activate" in m.subject.lower() or "account" in m.subject.lower() for m in mailoutbox
    )


def test_failed_runs_email_the_district_admins(
    district, connection, district_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sync(connection, data=b"not a zip")

    message = mailoutbox[-1]
    assert message.to == ["ada@alpha.example"]
    assert "Roster sync failed" in message.subject
    assert "not a complete zip file" in message.body and "Nothing of it was applied" in message.body


def test_schedule_starts_a_due_connection_once(district):
    connection = RosterConnection.objects.create(
        district=district, name="REST", kind="rest", url="https://sis.example/ims/oneroster/v1p1",
        schedule="hourly",
    )  # fmt: skip
    from django.utils import timezone

    connection.next_run_at = timezone.now()
    connection.save()

    started = services.runs_dispatch_due()
    again = services.runs_dispatch_due()

    assert len(started) == 1 and again == []
    connection.refresh_from_db()
    assert connection.next_run_at > timezone.now()


def test_daily_schedule_is_in_the_district_time_zone(district):
    import datetime as dt

    district.time_zone = "America/New_York"
    connection = RosterConnection(district=district, schedule="daily", daily_at=dt.time(2, 0))
    now = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)

    due = services.next_run(connection, now)

    assert due == dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)


def test_held_runs_email_the_district_admins_with_the_reason(
    district, connection, district_admin, mailoutbox, django_capture_on_commit_callbacks
):
    sync(connection, roster.tiny())
    with django_capture_on_commit_callbacks(execute=True):
        run = sync(connection, roster.without(roster.tiny(), "users.csv", "s1", "s2"))

    message = mailoutbox[-1]
    assert run.status == RunStatus.HELD
    assert "waiting for your approval" in message.subject
    assert "deactivate 2 of 5 rostered accounts (40%)" in message.body
    assert f"/settings/rostering/runs/{run.pk}/" in message.body


def test_sso_only_connection_creates_active_accounts_and_sends_nothing(
    district, connection, mailoutbox
):
    connection.activation_emails = "none"
    connection.save()

    sync(connection, roster.tiny())

    assert set(User.objects.filter(district=district).values_list("status", flat=True)) == {
        Status.ACTIVE
    }
    assert mailoutbox == []


def test_a_run_whose_worker_died_is_queued_again(district, connection):
    import datetime as dt

    from django.utils import timezone

    run = services.run_start(
        connection=connection, actor=None, trigger=Trigger.COMMAND,
        bundle=roster.zipped(roster.tiny()), enqueue=False,
    )  # fmt: skip
    assert services.run_claim(run)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=30))

    resumed = services.runs_resume_stalled()

    run.refresh_from_db()
    assert resumed == [run.pk] and run.status == RunStatus.QUEUED
    assert services.run_claim(run)
    assert services.run_execute(run=run).status == RunStatus.APPLIED


def test_a_file_that_is_not_utf8_fails_with_its_line(district, connection):
    data = roster.zipped(
        roster.tiny(),
        extra_files={
            "orgs.csv": (
                b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
                b"org-s1,,,Lakeside Primary,school,LP,\r\n"
            )
            + "org-s2,,,Ecole Sant\xe9,school,ES,\r\n".encode("latin-1")
        },
    )

    run = sync(connection, data=data)

    assert run.status == RunStatus.FAILED
    assert (run.errors[0]["file"], run.errors[0]["line"]) == ("orgs.csv", 3)
    assert "not UTF-8" in run.errors[0]["message"]


def test_a_changed_grade_mapping_moves_students_at_the_next_sync(
    district, connection, district_admin
):
    sync(connection, roster.tiny())
    other = YearGroup.objects.create(district=district, ordinal=55, name="Form 5")
    services.grade_mapping_set(
        district=district, actor=district_admin, mapping={"05": str(other.pk)}
    )

    run = sync(connection, roster.tiny(), approve=True)

    assert user(district, "sam.one").year_group == other
    assert run.counts["user"]["updated"] == 2 and run.counts["user"]["unchanged"] == 3


@pytest.mark.parametrize("version", [spec.V1_1, spec.V1_2])
def test_a_year_later_every_student_moves_up_and_leavers_go(district, connection, version):
    from rostering.oneroster import samples

    rows = samples.sample_rows(
        samples.SampleDistrict(version=version, students=60, classes=10, teachers=5, seed=3)
    )
    sync(connection, rows, version=version)
    later = samples.next_year(rows, version=version, leavers=0.1, class_changes=0.2)
    grades = {r["sourcedId"]: r["grades"] for r in later["users.csv"] if r["grades"]}
    titles = {r["sourcedId"]: r["title"] for r in later["classes.csv"]}

    run = sync(connection, later, version=version, approve=True)

    assert run.status == RunStatus.APPLIED, run.errors
    records = dict(
        RosterRecordModel.objects.filter(connection=connection, entity="user").values_list(
            "sourced_id", "target_id"
        )
    )
    students = User.objects.filter(district=district, role=Role.STUDENT, managed_by_sis=True)
    for student in students.select_related("year_group"):
        sid = next(s for s, pk in records.items() if pk == student.pk)
        if sid in grades:
            assert student.status != Status.DEACTIVATED
            assert student.year_group.grade_code == grades[sid]
        else:
            assert student.status == Status.DEACTIVATED
    assert run.counts["user"]["deactivated"] >= 6
    for room in Classroom.objects.filter(district=district, archived_at__isnull=True):
        assert room.name == titles[room.sis_id]
    assert Classroom.objects.filter(district=district, archived_at__isnull=False).exists()


def test_an_admin_is_never_linked_to_a_sis_row_of_another_role(
    district, connection, district_admin
):
    rows = roster.changed(roster.tiny(), "users.csv", "t1", email="ada@alpha.example")

    run = sync(connection, rows)

    district_admin.refresh_from_db()
    assert run.status == RunStatus.APPLIED
    assert district_admin.role == Role.DISTRICT_ADMIN and not district_admin.managed_by_sis
    assert user(district, "tina.teach").email == "ada@alpha.example"


def test_a_linked_accounts_old_username_stays_taken_in_that_run(district, connection):
    UserFactory(district=district, role=Role.TEACHER, username="tina.old", email="tina@sis.example")
    rows = roster.changed(roster.tiny(), "users.csv", "s3", username="tina.old")

    run = sync(connection, rows)

    assert run.status == RunStatus.APPLIED, run.errors
    assert User.objects.filter(district=district, username="tina.old2").exists()


def test_approving_an_old_held_run_after_a_newer_one_is_refused(district, connection):
    sync(connection, roster.tiny())
    held = sync(connection, roster.without(roster.tiny(), "users.csv", "s1", "s2"))
    newer = sync(connection, roster.tiny())

    with pytest.raises(Exception, match="newer sync"):
        services.run_approve(run=held, actor=None, enqueue=False)

    held.refresh_from_db()
    assert newer.status == RunStatus.APPLIED
    assert held.status == RunStatus.SUPERSEDED
    assert user(district, "sam.one").status == Status.INVITED


def test_a_school_renamed_to_another_schools_name_is_told_apart(district, connection):
    from tests.factories import SchoolFactory

    sync(connection, roster.tiny())
    SchoolFactory(district=district, name="Hillside Primary")

    run = sync(
        connection, roster.changed(roster.tiny(), "orgs.csv", "org-s1", name="Hillside Primary")
    )

    assert run.status == RunStatus.APPLIED, run.errors
    assert School.objects.get(sis_id="org-s1").name == "Hillside Primary (LP)"
    assert sync(
        connection, roster.changed(roster.tiny(), "orgs.csv", "org-s1", name="Hillside Primary")
    ).counts["org"] == {"unchanged": 1}


def test_two_orgs_with_one_name_get_two_schools(district, connection):
    rows = roster.tiny()
    rows["orgs.csv"].append({**rows["orgs.csv"][1], "sourcedId": "org-s2", "identifier": "LP2"})

    run = sync(connection, rows)

    assert run.status == RunStatus.APPLIED, run.errors
    assert School.objects.filter(district=district).exclude(sis_id="").count() == 2


def test_a_1_2_delta_without_roles_keeps_the_year_group(district, connection):
    sync(connection, roster.tiny(spec.V1_2), version=spec.V1_2)
    year = user(district, "sam.one").year_group
    row = dict(roster.tiny(spec.V1_2)["users.csv"][1], givenName="Samuel", status="active")
    row["dateLastModified"] = "2026-02-01T00:00:00Z"
    rows = {"users.csv": [row]}

    run = sync(
        connection,
        data=roster.zipped(rows, spec.V1_2, modes={"users": "delta"}),
        version=spec.V1_2,
        approve=True,
    )

    sam = user(district, "sam.one")
    assert run.status == RunStatus.APPLIED, run.errors
    assert sam.first_name == "Samuel" and sam.year_group == year


def test_a_delta_keeps_a_link_only_the_other_side_lists(district, connection):
    rows = roster.changed(roster.tiny(), "users.csv", "s1", agentSourcedIds="")
    sync(connection, rows)  # only Gail's row lists Sam
    row = dict(rows["users.csv"][1], givenName="Samuel", status="active")
    row["dateLastModified"] = "2026-02-01T00:00:00Z"

    run = sync(
        connection, data=roster.zipped({"users.csv": [row]}, modes={"users": "delta"}), approve=True
    )

    assert run.status == RunStatus.APPLIED, run.errors
    assert GuardianLink.objects.filter(
        guardian__username="gail.one", student__username="sam.one"
    ).exists()


def test_swapped_usernames_settle_on_the_next_run(district, connection):
    sync(connection, roster.tiny())
    rows = roster.changed(roster.tiny(), "users.csv", "s1", username="sia.two")
    rows = roster.changed(rows, "users.csv", "s2", username="sam.one")

    first = sync(connection, rows, approve=True)
    second = sync(connection, rows, approve=True)

    assert any("is taken by another account" in w["message"] for w in first.warnings)
    assert second.status == RunStatus.APPLIED
    names = {
        u.sis_id: u.username for u in User.objects.filter(district=district, managed_by_sis=True)
    }
    assert (names["S1"], names["S2"]) == ("sia.two", "sam.one")


def test_a_dry_run_keeps_no_copy_of_the_bundle(district, connection):
    run = sync(connection, roster.tiny(), dry_run=True)

    run.refresh_from_db()
    assert run.bundle is None
