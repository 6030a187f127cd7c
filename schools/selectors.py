"""Reads of schools and classrooms that pages share: what an admin may manage, what a
teacher teaches, and the people a classroom's picker offers."""

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Role, Status, User
from accounts.selectors import STAFF, STUDENTS, UserFilters, users_for_list, users_visible_to
from schools.models import Classroom, Enrollment, School

MAX_QUERY = 100
PICKER_LIMIT = 20


def schools_visible_to(actor: User):
    """The schools an admin manages: all of the district's, or a school admin's own."""
    schools = School.objects.filter(district_id=actor.district_id)
    if actor.role == Role.DISTRICT_ADMIN:
        return schools
    if actor.role == Role.SCHOOL_ADMIN:
        return schools.filter(members=actor)
    return schools.none()


def classrooms_visible_to(actor: User):
    """The classrooms an admin manages; nobody else manages any."""
    classrooms = Classroom.objects.filter(district_id=actor.district_id)
    if actor.role == Role.DISTRICT_ADMIN:
        return classrooms
    if actor.role == Role.SCHOOL_ADMIN:
        return classrooms.filter(school__in=schools_visible_to(actor).values("pk"))
    return classrooms.none()


def _count(queryset):
    """A correlated COUNT(*) subquery: two counts side by side without multiplying joins."""
    counted = queryset.order_by().values("classroom_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(classrooms):
    """Adds student_count and teacher_count to each row, in the same query."""
    return classrooms.annotate(
        student_count=_count(Enrollment.objects.filter(classroom=OuterRef("pk"))),
        teacher_count=_count(Classroom.teachers.through.objects.filter(classroom=OuterRef("pk"))),
    ).select_related("school", "year_group")


def classroom_get_for(actor: User, pk) -> Classroom:
    """A classroom this admin manages, with its counts, or 404 (another district's or
    another school's classroom is not confirmed to exist)."""
    classroom = with_counts(classrooms_visible_to(actor)).filter(pk=pk).first()
    if classroom is None:
        raise Http404("No such classroom")
    return classroom


# By school, then youngest year first (Year 7 before Year 10), then name.
CLASSROOM_ORDER = (
    "school__name",
    F("year_group__ordinal").asc(nulls_last=True),
    "name",
    "pk",
)


@dataclass(frozen=True)
class ClassroomFilters:
    """The list's search and filters, read forgivingly from the query string."""

    q: str = ""
    school: int | None = None
    archived: bool = False  # also show archived classrooms

    @classmethod
    def from_params(cls, params) -> "ClassroomFilters":
        school = params.get("school", "")
        return cls(
            q=" ".join(params.get("q", "").split())[:MAX_QUERY],
            school=int(school) if school.isdigit() and len(school) < 19 else None,
            archived=params.get("archived", "") in ("1", "on", "true"),
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.school or self.archived)


def classrooms_for_list(*, actor: User, filters: ClassroomFilters):
    classrooms = classrooms_visible_to(actor)
    if filters.q:
        for word in filters.q.split()[:5]:
            classrooms = classrooms.filter(name__icontains=word)
    if filters.school:
        classrooms = classrooms.filter(school_id=filters.school)
    if not filters.archived:
        classrooms = classrooms.filter(archived_at=None)
    return with_counts(classrooms).order_by(*CLASSROOM_ORDER)


def classroom_teachers(classroom: Classroom):
    return classroom.teachers.order_by("last_name", "first_name", "pk")


def classroom_students(classroom: Classroom):
    return (
        User.objects.filter(
            district_id=classroom.district_id,
            enrollments__classroom=classroom,
        )
        .select_related("year_group")
        .order_by("last_name", "first_name", "pk")
    )


PICKER_KINDS = {"teachers": STAFF, "students": STUDENTS}


def picker_candidates(*, actor: User, classroom: Classroom, kind: str, find: str):
    """People the admin may add to the classroom who match the search: staff for
    "teachers", students for "students"; members already in it and deactivated accounts
    are left out. Returns (first PICKER_LIMIT rows, how many match)."""
    find = " ".join(find.split())[:MAX_QUERY]
    if not find or kind not in PICKER_KINDS:
        return [], 0
    people = users_for_list(
        base=users_visible_to(actor), kind=PICKER_KINDS[kind], filters=UserFilters(q=find)
    ).exclude(status=Status.DEACTIVATED)
    if kind == "teachers":
        people = people.exclude(classrooms_taught=classroom)
    else:
        people = people.exclude(enrollments__classroom=classroom)
    total = people.count()
    rows = list(
        people.select_related("year_group")
        .prefetch_related(Prefetch("schools", queryset=School.objects.order_by("name")))
        .order_by("last_name", "first_name", "pk")[:PICKER_LIMIT]
    )
    return rows, total


# A teacher's own classes (read-only pages)


def classrooms_of_teacher(teacher: User):
    """The classes a teacher teaches now (archived ones are gone from their pages)."""
    return with_counts(
        Classroom.objects.filter(
            district_id=teacher.district_id, teachers=teacher, archived_at=None
        )
    ).order_by(*CLASSROOM_ORDER)


def classroom_of_teacher_get(teacher: User, pk) -> Classroom:
    classroom = classrooms_of_teacher(teacher).filter(pk=pk).first()
    if classroom is None:
        raise Http404("No such class")
    return classroom


def teacher_enrollments(teacher: User, *, besides: Classroom | None = None) -> Prefetch:
    """For each student row: their enrollments in the classes this teacher teaches (on a
    class page, the other ones)."""
    enrollments = Enrollment.objects.filter(
        classroom__teachers=teacher, classroom__archived_at=None
    )
    if besides is not None:
        enrollments = enrollments.exclude(classroom=besides)
    return Prefetch(
        "enrollments",
        queryset=enrollments.select_related("classroom").order_by("classroom__name"),
        to_attr="classes_with_teacher",
    )
