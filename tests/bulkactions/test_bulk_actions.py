"""Bulk actions through their services: preview equals the run, bulk changes with
before/after and audit, skip rules, retry safety, undo with and without conflicts."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent, Role, Status, User
from bulkactions import services
from bulkactions.models import BulkAction, BulkActionStatus, ItemOutcome
from tests.factories import UserFactory, YearGroupFactory


@pytest.fixture
def year7(district):
    return YearGroupFactory(district=district, ordinal=7, name="Year 7")


@pytest.fixture
def year8(district):
    return YearGroupFactory(district=district, ordinal=8, name="Year 8")


@pytest.fixture
def pupils(district, year7, year8):
    made = [
        UserFactory(district=district, role=Role.STUDENT, year_group=year7, username=f"p{n}")
        for n in range(5)
    ]
    made.append(UserFactory(district=district, role=Role.STUDENT, year_group=year8, username="p8"))
    return made


def students(district):
    return User.objects.filter(district=district, role=Role.STUDENT)


def _to_year8(district, actor, year8):
    """Every student of the district to Year 8, started but not yet run (no task queued)."""
    return services.bulk_action_start(
        district=district,
        actor=actor,
        kind="students",
        action="year_group",
        params={"year_group": year8.pk},
        users=students(district),
        enqueue=False,
    )


def run(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        action = services.bulk_action_start(**kwargs)
    return BulkAction.objects.get(pk=action.pk)


def test_year_group_change_matches_its_preview_and_is_audited(
    district, district_admin, pupils, year8, django_capture_on_commit_callbacks
):
    params = {"year_group": year8.pk}
    preview = services.bulk_action_preview(
        district=district,
        actor=district_admin,
        kind="students",
        action="year_group",
        params=params,
        users=students(district),
    )
    assert preview == {"change": 5, "skipped": {"Already in this year group": 1}}
    action = run(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="year_group",
        params=params,
        users=students(district),
    )
    assert action.status == BulkActionStatus.DONE
    assert (action.changed_count, action.skipped_count) == (5, 1)
    moved = User.objects.get(username="p0")
    assert moved.year_group == year8 and moved.year_ordinal == 8
    item = action.items.get(user=moved)
    assert item.before == {"year_group_id": pupils[0].year_group_id}
    assert item.after == {"year_group_id": year8.pk}
    assert AuditEvent.objects.filter(
        action="accounts.user.updated", target_id=moved.pk, after__bulk_action=action.pk
    ).exists()


def test_deactivate_ends_sessions_and_undo_restores_all_but_the_changed_since(
    district, district_admin, pupils, django_capture_on_commit_callbacks
):
    action = run(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="deactivate",
        params={},
        users=students(district),
    )
    assert action.changed_count == 6
    first = User.objects.get(username="p0")
    assert first.status == Status.DEACTIVATED and first.session_version == 1
    # Someone reactivates p1 by hand before the undo.
    services_accounts = __import__("accounts.services", fromlist=["user_reactivate"])
    services_accounts.user_reactivate(user=User.objects.get(username="p1"), actor=district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        undo = services.bulk_action_undo(bulk_action=action, actor=district_admin)
    undo.refresh_from_db()
    assert (undo.changed_count, undo.skipped_count) == (5, 1)
    assert undo.items.get(user__username="p1").message == "Changed since the action: left as it is"
    assert User.objects.get(username="p0").status == Status.ACTIVE
    with pytest.raises(ValidationError):
        services.bulk_action_undo(bulk_action=action, actor=district_admin)


def test_a_second_run_of_the_same_action_changes_nothing_twice(
    district, district_admin, pupils, year8
):
    action = _to_year8(district, district_admin, year8)
    services.bulk_action_run(action, action.run_token)
    BulkAction.objects.filter(pk=action.pk).update(status=BulkActionStatus.RUNNING)
    services.bulk_action_run(action, action.run_token)
    action.refresh_from_db()
    assert action.changed_count == 5
    assert AuditEvent.objects.filter(after__bulk_action=action.pk).count() == 5


def test_bad_parameters_and_empty_selections_are_refused(district, district_admin, other_district):
    other_year = YearGroupFactory(district=other_district, ordinal=7, name="Year 7")
    with pytest.raises(ValidationError) as caught:
        services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="students",
            action="year_group",
            params={"year_group": other_year.pk},
            users=students(district),
        )
    assert caught.value.message_dict == {"year_group": ["Select a year group of this district"]}
    with pytest.raises(ValidationError):
        services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="students",
            action="deactivate",
            params={},
            users=students(district),
        )
    with pytest.raises(ValidationError):
        services.bulk_action_start(
            district=district,
            actor=district_admin,
            kind="staff",
            action="year_group",
            params={},
            users=students(district),
        )


def test_another_districts_people_are_never_in_a_selection(
    district, district_admin, other_district, pupils, django_capture_on_commit_callbacks
):
    outsider = UserFactory(district=other_district, role=Role.STUDENT, username="outsider")
    action = run(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="deactivate",
        params={},
        users=User.objects.filter(role=Role.STUDENT),
    )
    assert action.total == 6
    outsider.refresh_from_db()
    assert outsider.status == Status.ACTIVE
    assert not action.items.filter(outcome=ItemOutcome.CHANGED, user=outsider).exists()


def test_an_admin_never_deactivates_themselves(
    district, district_admin, django_capture_on_commit_callbacks
):
    action = run(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="staff",
        action="deactivate",
        params={},
        users=User.objects.filter(pk=district_admin.pk),
    )
    assert action.skipped_count == 1
    assert User.objects.get(pk=district_admin.pk).status == Status.ACTIVE


def test_the_admin_gets_a_summary_with_reasons_and_a_results_csv(
    district, district_admin, pupils, year8, django_capture_on_commit_callbacks, mailoutbox
):
    run(
        django_capture_on_commit_callbacks,
        district=district,
        actor=district_admin,
        kind="students",
        action="year_group",
        params={"year_group": year8.pk},
        users=students(district),
    )
    (summary,) = mailoutbox
    assert summary.to == ["ada@alpha.example"]
    assert summary.subject == (
        "Bulk action finished: Change year group to Year 8, 5 changed – Alpha District"
    )
    assert "Changed: 5" in summary.body and "Already in this year group: 1" in summary.body
    name, content, mimetype = summary.attachments[0]
    assert mimetype == "text/csv" and content.count("Changed") == 5


def test_a_queued_action_whose_worker_died_is_resumed_and_finishes_once(
    district, district_admin, pupils, year8, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from bulkactions.tasks import resume_stalled_bulk_actions

    action = _to_year8(district, district_admin, year8)
    BulkAction.objects.filter(pk=action.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=settings.IMPORT_STALL_MINUTES + 1)
    )
    resume_stalled_bulk_actions()
    action.refresh_from_db()
    assert action.status == BulkActionStatus.DONE and action.changed_count == 5
    resume_stalled_bulk_actions()  # nothing stalled any more
    assert BulkAction.objects.get(pk=action.pk).changed_count == 5


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_exact_results_and_the_resume_finishes_once(
    district, district_admin, year7, year8, settings, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from bulkactions.operations import run as runner
    from bulkactions.tasks import resume_stalled_bulk_actions

    for n in range(5):
        UserFactory(district=district, role=Role.STUDENT, year_group=year7, username=f"m{n}")
    action = _to_year8(district, district_admin, year8)
    monkeypatch.setattr(runner, "BATCH", 2)
    real_batch, calls = runner._batch, []

    def dies_on_the_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_batch(*args)

    monkeypatch.setattr(runner, "_batch", dies_on_the_second_batch)
    with pytest.raises(SystemExit):
        services.bulk_action_run(action, action.run_token)
    action.refresh_from_db()
    assert action.status == BulkActionStatus.RUNNING  # never looks finished
    assert action.changed_count == 2
    assert action.items.filter(outcome=ItemOutcome.CHANGED).count() == 2
    assert User.objects.filter(year_group=year8).count() == 2
    BulkAction.objects.filter(pk=action.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=settings.IMPORT_STALL_MINUTES + 1)
    )
    resume_stalled_bulk_actions()
    action.refresh_from_db()
    assert action.status == BulkActionStatus.DONE and action.changed_count == 5
    assert AuditEvent.objects.filter(after__bulk_action=action.pk).count() == 5


def test_a_batch_whose_items_another_run_wrote_meanwhile_is_undone_whole(
    district, district_admin, year7, year8, pupils
):
    """A task delivered twice runs with the same token: the second copy read the items as
    pending, and by the time it has locked the people the first has written them. Its
    batch (one transaction, as the runner writes it) then changes nobody, and stops."""
    from django.db import transaction

    from bulkactions.operations import run as runner

    action = _to_year8(district, district_admin, year8)
    stale = runner._Item.pending(action)  # what the second copy read
    assert len(stale) == 6
    services.bulk_action_run(action, action.run_token)  # the first copy, to the end
    User.objects.filter(pk=pupils[0].pk).update(year_group=year7)  # moved back since
    events = AuditEvent.objects.count()
    with pytest.raises(runner.Superseded), transaction.atomic():
        runner._batch(action, runner.OPERATIONS["year_group"], stale, action.run_token, {})
    assert User.objects.get(pk=pupils[0].pk).year_group == year7  # not moved a second time
    assert AuditEvent.objects.count() == events
    action.refresh_from_db()
    assert (action.status, action.changed_count, action.skipped_count) == (
        BulkActionStatus.DONE,
        5,
        1,
    )
    outcomes = list(action.items.values_list("outcome", flat=True))
    assert sorted(outcomes) == [ItemOutcome.CHANGED] * 5 + [ItemOutcome.SKIPPED]
