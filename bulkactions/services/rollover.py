"""The annual year-group rollover: once per academic year per school, previewed per
year group, run as a bulk action, undone as a whole within 30 days."""

from collections import Counter
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import Role, Status, User
from bulkactions.models import BulkAction, BulkActionStatus, ItemOutcome, Rollover
from bulkactions.services.actions import bulk_action_start, bulk_action_undo
from schools.models import Classroom, District, School, YearGroup

UNDO_DAYS = 30


def academic_year(district: District, today: date | None = None) -> int:
    """The calendar year the current academic year started in."""
    today = today or timezone.localdate()
    return today.year if today.month >= district.academic_year_start_month else today.year - 1


def next_start(district: District, year: int) -> date:
    return date(year + 1, district.academic_year_start_month, 1)


def rollover_students(district: District, school: School | None):
    students = User.objects.filter(district=district, role=Role.STUDENT).exclude(
        status=Status.DEACTIVATED
    )
    return students.filter(schools=school) if school else students


def rollover_current(district: District, school: School | None) -> Rollover | None:
    """This academic year's rollover of the school, or of the whole district."""
    year = academic_year(district)
    done = Rollover.objects.filter(district=district, academic_year=year, undone_at__isnull=True)
    whole = done.filter(school__isnull=True).first()
    if school is None:
        return whole or done.first()  # the district's, or any school's already this year
    return done.filter(school=school).first() or whole


def rollover_preview(*, district: District, school: School | None) -> list[dict]:
    """One line per year group: how many students move, and where to."""
    years = {y.pk: y for y in YearGroup.objects.filter(district=district)}
    counts = Counter(
        rollover_students(district, school)
        .exclude(year_group__isnull=True)
        .values_list("year_group_id", flat=True)
    )
    lines = []
    for year in sorted(years.values(), key=lambda y: y.ordinal):
        following = years.get(year.next_id) if year.next_id else None
        lines.append(
            {
                "from": year.name,
                "to": following.name if following else None,
                "count": counts[year.pk],
            }
        )
    return lines


def rollover_start(
    *,
    district: District,
    actor: User | None,
    school: School | None,
    leavers: str = "deactivate",
    archive_classrooms: bool = False,
    enqueue: bool = True,
) -> BulkAction:
    if leavers not in ("deactivate", "unassign"):
        raise ValidationError({"leavers": ["Choose what happens to leavers"]})
    if actor is not None and actor.role == Role.SCHOOL_ADMIN:
        if school is None or not actor.schools.filter(pk=school.pk).exists():
            raise ValidationError("School admins roll over their own schools only")
    year = academic_year(district)
    if rollover_current(district, school):
        raise ValidationError(
            f"This year's rollover has already run: the next one opens on "
            f"{next_start(district, year):%-d %B %Y}"
        )
    params = {
        "academic_year": year,
        "school": school.pk if school else None,
        "leavers": leavers,
        "archive_classrooms": archive_classrooms,
        "next": {
            str(pk): next_id
            for pk, next_id in YearGroup.objects.filter(district=district).values_list("pk", "next")
        },
    }
    try:
        with transaction.atomic():
            action = bulk_action_start(
                district=district,
                actor=actor,
                kind="students",
                action="rollover",
                params=params,
                users=rollover_students(district, school).exclude(year_group__isnull=True),
                selection=f"Students of {school.name}" if school else "All students",
                enqueue=enqueue,
            )
            archived = []
            if archive_classrooms:
                rooms = Classroom.objects.filter(district=district, archived_at__isnull=True)
                if school:
                    rooms = rooms.filter(school=school)
                archived = list(rooms.values_list("pk", flat=True))
                rooms.update(archived_at=timezone.now())
            Rollover.objects.create(
                district=district,
                school=school,
                academic_year=year,
                bulk_action=action,
                archived_classrooms=archived,
            )
    except IntegrityError as error:  # the same rollover from a second tab
        raise ValidationError("This year's rollover has already run") from error
    return action


def rollover_undo_problem(rollover: Rollover, now=None) -> str | None:
    now = now or timezone.now()
    action = rollover.bulk_action
    if rollover.undone_at:
        return "This rollover has already been undone"
    if action.status != BulkActionStatus.DONE:
        return "The rollover is still running"
    if action.finished_at and now - action.finished_at > timedelta(days=UNDO_DAYS):
        return f"A rollover can be undone within {UNDO_DAYS} days only"
    changed = 0
    people = {
        p["id"]: p
        for p in User.objects.filter(
            pk__in=action.items.filter(outcome=ItemOutcome.CHANGED).values("user_id")
        ).values("id", "year_group_id", "status")
    }
    for user_id, after in action.items.filter(outcome=ItemOutcome.CHANGED).values_list(
        "user_id", "after"
    ):
        person = people.get(user_id)
        if person is None or any(person.get(k) != v for k, v in after.items()):
            changed += 1
    if changed:
        return (
            f"{changed:,} students were changed since the rollover: it can only be undone "
            "as a whole, so change them back or move them by hand"
        )
    return None


def rollover_undo(*, rollover: Rollover, actor: User | None, enqueue: bool = True) -> BulkAction:
    with transaction.atomic():
        rollover = Rollover.objects.select_for_update().get(pk=rollover.pk)
        problem = rollover_undo_problem(rollover)
        if problem:
            raise ValidationError(problem)
        undo = bulk_action_undo(bulk_action=rollover.bulk_action, actor=actor, enqueue=enqueue)
        Classroom.objects.filter(
            district=rollover.district, pk__in=rollover.archived_classrooms
        ).update(archived_at=None)
        rollover.undone_at = timezone.now()
        rollover.save(update_fields=["undone_at"])
        audit.record(
            actor=actor,
            action="bulkactions.rollover.undone",
            target=rollover.bulk_action,
            district=rollover.district,
            after={"academic_year": rollover.academic_year},
        )
    return undo
