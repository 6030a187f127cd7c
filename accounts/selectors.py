"""Reads of accounts that several pages, services and the sign-in backend share."""

import hashlib
import json
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import (
    STAFF_ROLES,
    ActivationToken,
    Role,
    Source,
    Status,
    TokenPurpose,
    User,
)
from schools.models import Classroom, District, Enrollment, School


def user_for_identifier(*, district: District, identifier: str) -> User | None:
    """What a person typed to sign in: an email when it names exactly one account in the
    district that is not deactivated (rostered accounts may share one), otherwise a
    username. Case-insensitive; never looks outside the district."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > 254:
        return None
    users = User.objects.filter(district=district).select_related("district")
    if "@" in identifier:
        by_email = list(
            users.filter(email__iexact=identifier).exclude(status=Status.DEACTIVATED)[:2]
        )
        if len(by_email) == 1:
            return by_email[0]
    return users.filter(username__iexact=identifier).first()


def user_get_for(actor: User, pk) -> User:
    """A user this admin may see in their district, or 404 (never a 403 that confirms it
    exists)."""
    user = (
        users_visible_to(actor).select_related("year_group", "case_manager").filter(pk=pk).first()
    )
    if user is None:
        raise Http404("No such user")
    return user


# Lists of people (Settings > Staff, Settings > Students, a teacher's "My students")

STAFF = "staff"
STUDENTS = "students"
LIST_KINDS = {STAFF: STAFF_ROLES, STUDENTS: {Role.STUDENT}}
PAGE_SIZES = (25, 50, 100)
# A search matching up to this many people is sorted after the trigram index finds them
# (about 2.5 ms per thousand); a broader one walks the sort index, which fills a page sooner.
SPARSE_MATCHES = 10_000
MAX_QUERY = 100  # longer searches are cut, not refused

SORTS = {
    "name": ("last_name", "first_name", "id"),
    "username": ("username", "id"),
    "email": ("email", "id"),
    "role": ("role", "last_name", "id"),
    "year": ("year_ordinal", "last_name", "id"),
    "school": ("school_names", "last_name", "id"),
    "status": ("status", "last_name", "id"),
    "last_login": ("last_login", "id"),
    "created": ("created_at", "id"),
}


@dataclass(frozen=True)
class UserFilters:
    """What a list shows, read forgivingly from the query string: unknown values are
    ignored, never an error page, so a bookmarked URL keeps working."""

    q: str = ""
    school: int | None = None
    role: str = ""
    year_group: int | None = None
    classroom: int | None = None
    status: str = ""
    source: str = ""
    case_manager: str = ""  # "assigned", "unassigned", or a staff id
    sort: str = "name"
    descending: bool = False
    per_page: int = 50

    @classmethod
    def from_params(cls, params, *, kind: str) -> "UserFilters":
        def number(name):
            value = params.get(name, "")
            return int(value) if value.isdigit() and len(value) < 19 else None

        sort = params.get("sort", "name")
        descending = sort.startswith("-")
        sort = sort.lstrip("-")
        role = params.get("role", "")
        case_manager = params.get("case_manager", "")
        if not (case_manager in ("assigned", "unassigned") or case_manager.isdigit()):
            case_manager = ""
        return cls(
            q=" ".join(params.get("q", "").split())[:MAX_QUERY],
            school=number("school"),
            role=role if role in LIST_KINDS[kind] else "",
            year_group=number("year_group"),
            classroom=number("classroom"),
            status=params.get("status", "") if params.get("status") in Status.values else "",
            source=params.get("source", "") if params.get("source") in Source.values else "",
            case_manager=case_manager,
            sort=sort if sort in SORTS else "name",
            descending=descending and sort in SORTS,
            per_page=number("per_page") if number("per_page") in PAGE_SIZES else 50,
        )

    @property
    def narrows_search(self) -> bool:
        """Whether filters other than the search apply."""
        return any(
            getattr(self, name) not in ("", None)
            for name in ("school", "role", "year_group", "classroom", "status", "source")
        ) or bool(self.case_manager)

    def as_params(self, **changes) -> dict:
        """The query string of this view, with some values changed (for links)."""
        values = {**self.__dict__, **changes}
        sort = ("-" if values.pop("descending") else "") + values.pop("sort")
        params = {k: v for k, v in values.items() if v not in ("", None)}
        if params.get("per_page") == 50:
            del params["per_page"]
        if sort != "name":
            params["sort"] = sort
        return params


def users_visible_to(actor: User):
    """Everyone an admin may see: the whole district for district admins, the members of
    their own schools for school admins, nobody for anyone else."""
    users = User.objects.filter(district_id=actor.district_id)
    if actor.role == Role.DISTRICT_ADMIN:
        return users
    if actor.role == Role.SCHOOL_ADMIN:
        own_schools = School.objects.filter(members=actor).values("pk")
        return users.filter(
            Exists(User.schools.through.objects.filter(user=OuterRef("pk"), school__in=own_schools))
        )
    return users.none()


def students_of_teacher(teacher: User):
    """A teacher's students: members of the classes they teach and the students whose case
    they manage."""
    taught = Enrollment.objects.filter(
        student=OuterRef("pk"), classroom__teachers=teacher, classroom__archived_at=None
    )
    return User.objects.filter(district_id=teacher.district_id, role=Role.STUDENT).filter(
        Q(Exists(taught)) | Q(case_manager=teacher)
    )


def users_for_list(*, base, kind: str, filters: UserFilters):
    """The rows of a list, filtered and sorted, with what each row shows already joined:
    the query count does not grow with the page size."""
    users = base.filter(role__in=LIST_KINDS[kind])
    if filters.q:
        from accounts.models import search_text_for

        for word in search_text_for(filters.q).split()[:5]:
            if "@" in word:
                # An address: search_text holds no domain (account_search_text), so the
                # local part narrows through the trigram index and the email decides.
                users = users.filter(email__icontains=word)
                word = word.rsplit("@", 1)[0]
                if not word:
                    continue
            if len(word) < 3:
                # One or two letters match the start of a word ("ez" finds Ezra, not Díaz):
                # both patterns still use the trigram index, a bare substring could not.
                users = users.filter(
                    Q(search_text__startswith=word) | Q(search_text__contains=f" {word}")
                )
            else:
                users = users.filter(search_text__contains=word)
    if filters.school:
        users = users.filter(
            Exists(User.schools.through.objects.filter(user=OuterRef("pk"), school=filters.school))
        )
    if filters.role:
        users = users.filter(role=filters.role)
    if filters.year_group:
        users = users.filter(year_group_id=filters.year_group)
    if filters.classroom:
        # Students are enrolled in a class; staff teach it.
        members = (
            Enrollment.objects.filter(student=OuterRef("pk"), classroom=filters.classroom)
            if kind == STUDENTS
            else Classroom.teachers.through.objects.filter(
                user=OuterRef("pk"), classroom=filters.classroom
            )
        )
        users = users.filter(Exists(members))
    if filters.source:
        users = users.filter(source=filters.source)
    if filters.case_manager == "assigned":
        users = users.filter(case_manager__isnull=False)
    elif filters.case_manager == "unassigned":
        users = users.filter(case_manager__isnull=True)
    elif filters.case_manager:
        users = users.filter(case_manager_id=int(filters.case_manager))
    return users


def with_status(users, filters: UserFilters):
    return users.filter(status=filters.status) if filters.status else users


def status_counts(users) -> dict[str, int]:
    """Counts per status of a list before its status filter, in one grouped query. No
    index holds the status (bulk status changes then stay on their page: User.Meta), so
    the plain list's counts read the district's rows once, and are cached for a minute."""
    counts = dict.fromkeys(Status.values, 0)
    for row in users.order_by().values("status").annotate(n=Count("*")):
        counts[row["status"]] = row["n"]
    counts["all"] = sum(counts.values())
    return counts


def status_counts_cached(users, *, district_id: int, actor: User, kind: str, filters) -> dict:
    """status_counts, remembered for a minute per list view until the district's accounts
    change: paging and sorting a large list then costs no second count."""
    from django.core.cache import cache

    from accounts.audit import people_version

    view = {**filters.as_params(), "kind": kind, "actor": actor.pk}
    for ignored in ("status", "sort", "per_page", "page"):
        view.pop(ignored, None)
    digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:32]
    key = f"people-counts:{district_id}:{people_version(district_id)}:{digest}"
    counts = cache.get(key)
    if counts is None:
        counts = status_counts(users)
        cache.set(key, counts, timeout=60)
    return counts


def users_ordered(users, filters: UserFilters, *, search_matches: int | None = None):
    """The list's sort order, ties broken by id so pages never overlap. The name sort has
    an index, so a page of the whole list is an index scan; the others sort the district's
    rows (school and year through the derived school_names and year_ordinal columns)."""
    order = SORTS[filters.sort]
    if filters.q and (search_matches is None or search_matches <= SPARSE_MATCHES):
        # A search that matches few people: let PostgreSQL find them by the trigram index (or
        # a narrower filter) and sort them, rather than walk the sort index testing each row
        # until a page is full: most of the index when the matches share a surname far down
        # the alphabet, and the planner cannot know. The first key becomes an expression no
        # index has: same values, same order. A broad search walks: a page fills at once.
        first = order[0]
        order = (Coalesce(F(first), F(first)), *order[1:])
    if filters.descending:
        order = tuple(field.desc() if hasattr(field, "desc") else f"-{field}" for field in order)
    return users.order_by(*order)


def estimated_rows(users) -> int | None:
    """PostgreSQL's estimate of how many rows a queryset matches (None on other databases):
    a millisecond of planning, good enough to choose a query plan, never shown as a count."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    plan = json.loads(users.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def users_with_row_joins(users):
    """What a row shows beyond the user's own columns: year group and the latest invitation,
    in one query (schools come from the derived school_names column)."""
    latest_invite = ActivationToken.objects.filter(
        user=OuterRef("pk"), purpose=TokenPurpose.ACTIVATE
    ).order_by("-created_at")
    return (
        users.annotate(
            invite_sent_at=Subquery(latest_invite.values("sent_at")[:1]),
            invite_expires_at=Subquery(latest_invite.values("expires_at")[:1]),
        )
        .select_related("year_group")
        .defer("password", "search_text")
    )


def users_page(
    users, filters: UserFilters, *, page_number, total: int, per_page: int = 0, searched=None
):
    """One page of a list in two steps: the page's ids from the ordered list, then the rows
    with their joins for those ids only. Computing the joins inside the OFFSET query would
    evaluate them for every skipped row.

    total counts the list; searched, the list with its search and no other filter, tells
    how broad the search is when other filters narrow it (by the planner's estimate)."""
    search_matches = total
    if filters.q and searched is not None and filters.narrows_search:
        search_matches = max(total, estimated_rows(searched) or 0)
    ordered = users_ordered(users, filters, search_matches=search_matches).values_list(
        "pk", flat=True
    )
    paginator = Paginator(ordered, per_page or filters.per_page)
    paginator.count = total
    page = paginator.get_page(page_number)
    skipped = page.start_index() - 1 if total else 0
    if skipped > total // 2:
        # Past the middle, the same page read from the end: a sort without an index sorts
        # the whole list to skip rows, so the last page of 100,000 sorted by status would
        # sort them all; reversed, it keeps only the few rows it needs. Ties are broken by
        # id, so the reversed order is exactly the order backwards.
        end = total - skipped
        ids = list(ordered.reverse()[max(end - paginator.per_page, 0) : end])[::-1]
    else:
        ids = list(page.object_list)
    rows = {user.pk: user for user in users_with_row_joins(User.objects.filter(pk__in=ids))}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page
