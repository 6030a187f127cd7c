"""Classroom pages: Settings > Classrooms for admins (create, rename, archive, choose
teachers and students with a search picker) and a teacher's read-only "My classes" and
"My students". Writes go through schools.services; reads through the selectors."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.selectors import (
    STUDENTS,
    UserFilters,
    students_of_teacher,
    user_get_for,
    users_for_list,
    users_page,
)
from accounts.views import add_service_errors
from schools import selectors, services
from schools.models import YearGroup
from schools.permissions import role_required

admin_required = role_required(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
teacher_required = role_required(Role.TEACHER)

LIST_PAGE_SIZE = 50


class ClassroomForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=services.CLASSROOM_NAME_MAX,
        error_messages={
            "required": "Enter the classroom's name, like 7A Maths",
            "max_length": "Enter a name of 120 characters or fewer",
        },
    )
    school = forms.ModelChoiceField(
        label="School",
        queryset=None,
        empty_label="Select a school",
        error_messages={
            "required": "Select the school the classroom belongs to",
            "invalid_choice": "Select one of the schools in the list",
        },
    )
    year_group = forms.ModelChoiceField(
        label="Year group (optional)",
        queryset=None,
        required=False,
        empty_label="None",
        error_messages={"invalid_choice": "Select one of the year groups in the list"},
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        schools = selectors.schools_visible_to(actor)
        self.fields["school"].queryset = schools
        self.fields["year_group"].queryset = YearGroup.objects.filter(district_id=actor.district_id)
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk


class RenameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=services.CLASSROOM_NAME_MAX,
        error_messages={
            "required": "Enter the classroom's new name, like 7A Maths",
            "max_length": "Enter a name of 120 characters or fewer",
        },
    )


def _detail_url(classroom, *, kind: str = "", find: str = "", anchor: str = "") -> str:
    """The detail page, with a picker's search kept and scrolled to a section."""
    url = reverse("schools:classroom_detail", args=[classroom.pk])
    if kind in selectors.PICKER_KINDS:
        params = {"picker": kind, "find": find} if find else {"picker": kind}
        url += "?" + urlencode(params)
    return url + (f"#{anchor}" if anchor else "")


def _flash(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@admin_required
@require_GET
def classroom_list(request):
    filters = selectors.ClassroomFilters.from_params(request.GET)
    classrooms = selectors.classrooms_for_list(actor=request.user, filters=filters)
    page = Paginator(classrooms, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    schools = list(selectors.schools_visible_to(request.user))
    school = next((s for s in schools if s.pk == filters.school), None)
    return render(
        request,
        "schools/classroom_list.html",
        {"page": page, "filters": filters, "schools": schools, "school": school},
    )


@admin_required
def classroom_create(request):
    form = ClassroomForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            classroom = services.classroom_create(
                district=request.district, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, "name")
        else:
            messages.success(
                request,
                f"{classroom.name} created in {classroom.school.name}. "
                "Add its teachers and students below.",
            )
            return redirect("schools:classroom_detail", classroom.pk)
    return render(request, "schools/classroom_create.html", {"form": form})


def _detail(request, classroom, rename_form=None):
    kind = request.GET.get("picker", "")
    find = " ".join(request.GET.get("find", "").split())[: selectors.MAX_QUERY]
    pickers = {}
    for name in selectors.PICKER_KINDS:
        typed = find if name == kind else ""
        rows, total = selectors.picker_candidates(
            actor=request.user, classroom=classroom, kind=name, find=typed
        )
        pickers[name] = {"kind": name, "find": typed, "rows": rows, "total": total}
    context = {
        "classroom": classroom,
        "rename_form": rename_form or RenameForm(initial={"name": classroom.name}),
        "teachers": selectors.classroom_teachers(classroom),
        "students": selectors.classroom_students(classroom),
        "pickers": pickers,
        "changed_section": kind,
        "is_editable": not (classroom.sis_id or classroom.archived_at),
    }
    return render(request, "schools/classroom_detail.html", context)


@admin_required
@require_GET
def classroom_detail(request, pk):
    return _detail(request, selectors.classroom_get_for(request.user, pk))


@admin_required
@require_GET
def classroom_picker(request, pk):
    """The picker's results for htmx; without htmx the detail page renders them."""
    classroom = selectors.classroom_get_for(request.user, pk)
    kind, find = request.GET.get("picker", ""), request.GET.get("find", "")
    if kind not in selectors.PICKER_KINDS:
        kind = "students"
    if not request.headers.get("HX-Request"):
        return redirect(_detail_url(classroom, kind=kind, find=find, anchor=f"add-{kind}"))
    find = " ".join(find.split())[: selectors.MAX_QUERY]
    rows, total = selectors.picker_candidates(
        actor=request.user, classroom=classroom, kind=kind, find=find
    )
    picker = {"kind": kind, "find": find, "rows": rows, "total": total}
    return render(
        request,
        "schools/classroom_picker_results.html",
        {"classroom": classroom, "picker": picker, "swap_status": True},
    )


@admin_required
@require_POST
def classroom_rename(request, pk):
    classroom = selectors.classroom_get_for(request.user, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        old_name = classroom.name
        try:
            classroom = services.classroom_rename(
                classroom=classroom, name=form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error, "name")
        else:
            if classroom.name != old_name:
                messages.success(request, f"{old_name} renamed to {classroom.name}.")
            return redirect(_detail_url(classroom))
    return _detail(request, classroom, rename_form=form)


@admin_required
@require_POST
def classroom_archive(request, pk):
    classroom = selectors.classroom_get_for(request.user, pk)
    try:
        services.classroom_archive(classroom=classroom, actor=request.user)
    except ValidationError as error:
        _flash(request, error)
    else:
        messages.success(
            request, f"{classroom.name} archived. Its teachers no longer see it in My classes."
        )
    return redirect(_detail_url(classroom))


@admin_required
@require_POST
def classroom_unarchive(request, pk):
    classroom = selectors.classroom_get_for(request.user, pk)
    try:
        services.classroom_unarchive(classroom=classroom, actor=request.user)
    except ValidationError as error:
        _flash(request, error)
    else:
        messages.success(request, f"{classroom.name} unarchived. Its teachers see it again.")
    return redirect(_detail_url(classroom))


@dataclass(frozen=True)
class Membership:
    """How one kind of classroom member is added, removed and spoken of."""

    add: Callable
    remove: Callable
    members: Callable
    argument: str
    added: str
    already: str
    removed: str


MEMBERSHIP = {
    "teachers": Membership(
        add=services.classroom_teacher_add,
        remove=services.classroom_teacher_remove,
        members=selectors.classroom_teachers,
        argument="teacher",
        added="{person} added as a teacher of {classroom}.",
        already="{person} already teaches {classroom}.",
        removed="{person} no longer teaches {classroom}.",
    ),
    "students": Membership(
        add=services.classroom_student_add,
        remove=services.classroom_student_remove,
        members=selectors.classroom_students,
        argument="student",
        added="{person} added to {classroom}.",
        already="{person} is already in {classroom}.",
        removed="{person} removed from {classroom}.",
    ),
}


def _change_member(request, pk, user_id, *, kind: str, adding: bool):
    membership = MEMBERSHIP[kind]
    classroom = selectors.classroom_get_for(request.user, pk)
    if adding:
        person = user_get_for(request.user, user_id)
    else:
        # A member can be removed even when this school admin could not have added them.
        person = get_object_or_404(membership.members(classroom), pk=user_id)
    words = {"person": person.full_name, "classroom": classroom.name}
    change = membership.add if adding else membership.remove
    try:
        changed = change(classroom=classroom, actor=request.user, **{membership.argument: person})
    except ValidationError as error:
        _flash(request, error)
    else:
        if changed:
            done = membership.added if adding else membership.removed
            messages.success(request, done.format(**words))
        elif adding:
            messages.info(request, membership.already.format(**words))
    # Back to the section acted on, where its note repeats the banner, with the search kept.
    find = request.POST.get("find", "") if adding else ""
    return redirect(_detail_url(classroom, kind=kind, find=find, anchor=kind))


@admin_required
@require_POST
def classroom_teacher_add(request, pk, user_id):
    return _change_member(request, pk, user_id, kind="teachers", adding=True)


@admin_required
@require_POST
def classroom_teacher_remove(request, pk, user_id):
    return _change_member(request, pk, user_id, kind="teachers", adding=False)


@admin_required
@require_POST
def classroom_student_add(request, pk, user_id):
    return _change_member(request, pk, user_id, kind="students", adding=True)


@admin_required
@require_POST
def classroom_student_remove(request, pk, user_id):
    return _change_member(request, pk, user_id, kind="students", adding=False)


# A teacher's own pages: read-only.


@teacher_required
@require_GET
def my_classes(request):
    classrooms = selectors.classrooms_of_teacher(request.user)
    return render(request, "schools/my_classes.html", {"classrooms": classrooms})


def _student_rows(request, *, classroom=None):
    """The teacher's students as the lists show them: searched, sorted, one page of 50."""
    # Only the search applies here: a teacher's lists have no other filters to offer.
    typed = UserFilters.from_params(request.GET, kind=STUDENTS)
    filters = UserFilters(q=typed.q, classroom=classroom.pk if classroom else None)
    users = users_for_list(base=students_of_teacher(request.user), kind=STUDENTS, filters=filters)
    page = users_page(
        users,
        filters,
        page_number=request.GET.get("page"),
        total=users.count(),
        per_page=LIST_PAGE_SIZE,
    )
    prefetch_related_objects(
        page.object_list, selectors.teacher_enrollments(request.user, besides=classroom)
    )
    return {"filters": filters, "page": page}


@teacher_required
@require_GET
def my_students(request):
    return render(request, "schools/my_students.html", _student_rows(request))


@teacher_required
@require_GET
def my_class(request, pk):
    classroom = selectors.classroom_of_teacher_get(request.user, pk)
    context = {"classroom": classroom, **_student_rows(request, classroom=classroom)}
    return render(request, "schools/my_class.html", context)
