"""Settings > Staff and Settings > Students: lists, the person panel, create, edit and
the actions an admin takes on one account. Views stay thin: selectors read, services write."""

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import CaseManagerForm, PasswordChoiceForm, PersonForm, SetPasswordForm
from accounts.models import (
    STAFF_ROLES,
    ActivationToken,
    AuditEvent,
    LoginEvent,
    PasswordMode,
    Role,
    Source,
    Status,
    User,
)
from accounts.selectors import (
    PAGE_SIZES,
    STAFF,
    STUDENTS,
    UserFilters,
    status_counts_cached,
    user_get_for,
    users_for_list,
    users_page,
    users_visible_to,
    with_status,
)
from accounts.views import add_service_errors
from schools.models import Classroom, School, YearGroup
from schools.permissions import role_required

admin_required = role_required(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
KINDS = {
    STUDENTS: {"title": "Students", "one": "student", "many": "students"},
    STAFF: {"title": "Staff", "one": "member of staff", "many": "staff"},
}


def _kind_or_404(kind: str) -> dict:
    if kind not in KINDS:
        raise Http404("No such list")
    return KINDS[kind]


def schools_for(actor: User):
    schools = School.objects.filter(district_id=actor.district_id)
    if actor.role != Role.DISTRICT_ADMIN:
        schools = schools.filter(members=actor)
    return list(schools.order_by("name"))


def staff_roles_for(actor: User) -> list[tuple[str, str]]:
    roles = (
        [Role.TEACHER]
        if actor.role != Role.DISTRICT_ADMIN
        else [Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER]
    )
    return [(role.value, role.label) for role in roles]


@dataclass(frozen=True)
class ClassroomOption:
    pk: int
    label: str

    def __str__(self):
        return self.label


NO_SUCH_CASE_MANAGER = (
    "No member of staff you manage has the username or email “{typed}”: check it, or leave "
    "it empty to remove the case manager"
)
CLASSROOM_OPTIONS_MAX = 300  # beyond this a select is no help: choose a school first


def _filter_choices(actor: User, kind: str, filters: UserFilters) -> dict:
    classrooms = Classroom.objects.filter(district_id=actor.district_id, archived_at=None)
    if actor.role != Role.DISTRICT_ADMIN:
        classrooms = classrooms.filter(school__members=actor)
    if filters.school:
        classrooms = classrooms.filter(school_id=filters.school)
    if filters.classroom:
        classrooms = classrooms | Classroom.objects.filter(
            pk=filters.classroom, district_id=actor.district_id
        )
    too_many = classrooms.order_by()[CLASSROOM_OPTIONS_MAX : CLASSROOM_OPTIONS_MAX + 1].exists()
    classroom_options = (
        []
        if too_many
        else list(classrooms.select_related("school").order_by("school__name", "name"))
    )
    return {
        "schools": schools_for(actor),
        "year_groups": list(YearGroup.objects.filter(district_id=actor.district_id)),
        "classrooms": classroom_options,
        "too_many_classrooms": too_many,
        "roles": staff_roles_for(actor) if kind == STAFF else [],
        "statuses": Status.choices,
        "sources": Source.choices,
    }


def _applied_filters(filters: UserFilters, choices: dict, kind: str) -> list[tuple[str, str]]:
    """Each active filter as (label, URL of this view without it): removable tags."""
    names = {
        "school": {str(s.pk): s.name for s in choices["schools"]},
        "year_group": {str(y.pk): y.name for y in choices["year_groups"]},
        "classroom": {str(c.pk): c.name for c in choices["classrooms"]},
        "role": dict(Role.choices),
        "status": dict(Status.choices),
        "source": dict(Source.choices),
        "case_manager": {"assigned": "Case manager assigned", "unassigned": "No case manager"},
    }
    applied = []
    for field in (
        "q",
        "school",
        "role",
        "year_group",
        "classroom",
        "status",
        "source",
        "case_manager",
    ):
        value = getattr(filters, field)
        if value in ("", None):
            continue
        label = f"“{value}”" if field == "q" else names[field].get(str(value), str(value))
        url = "?" + urlencode(filters.as_params(**{field: None}))
        applied.append((label, url))
    return applied


@admin_required
def people_list(request, kind):
    labels = _kind_or_404(kind)
    filters = UserFilters.from_params(request.GET, kind=kind)
    visible = users_visible_to(request.user)
    matching = users_for_list(base=visible, kind=kind, filters=filters)
    counts = status_counts_cached(
        matching, district_id=request.district.pk, actor=request.user, kind=kind, filters=filters
    )
    searched = users_for_list(base=visible, kind=kind, filters=UserFilters(q=filters.q))
    page = users_page(
        with_status(matching, filters),
        filters,
        page_number=request.GET.get("page"),
        total=counts[filters.status] if filters.status else counts["all"],
        searched=searched,
    )
    choices = _filter_choices(request.user, kind, filters)
    sort_links = {
        key: "?"
        + urlencode(
            filters.as_params(
                sort=key, descending=filters.sort == key and not filters.descending, page=None
            )
        )
        for key in ("name", "username", "email", "role", "year", "school", "status", "last_login")
    }
    context = {
        "kind": kind,
        "labels": labels,
        "filters": filters,
        "page": page,
        "counts": counts,
        "choices": choices,
        "applied": _applied_filters(filters, choices, kind),
        "sort_links": sort_links,
        "query": urlencode(filters.as_params()),
        "status_tabs": [
            (
                label,
                "?" + urlencode(filters.as_params(status=status)),
                counts[status or "all"],
                filters.status == status,
            )
            for status, label in (("", "All"), *Status.choices)
        ],
        "urls": {
            "list": reverse(f"accounts:{kind}"),
            "create": reverse(f"accounts:{kind}_create"),
            "export": reverse(f"accounts:{kind}_export"),
        },
        "now": timezone.now(),
        "page_sizes": PAGE_SIZES,
        "person_url": reverse("accounts:person", args=[0]).removesuffix("0/"),
        # A few numbers around the current page: never a loop over thousands of pages.
        "page_links": list(
            page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ),
        "ellipsis": page.paginator.ELLIPSIS,
    }
    template = (
        "accounts/_people_table.html" if request.htmx_partial else "accounts/people_list.html"
    )
    return render(request, template, context)


def _case_manager_named(actor: User, identifier: str) -> User | None:
    """The member of staff an admin typed (username or email), within their reach."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > 254:
        return None
    staff = users_visible_to(actor).filter(role__in=STAFF_ROLES).exclude(status=Status.DEACTIVATED)
    return staff.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier)).first()


def _selection(request, kind):
    """The people a selection form names: ticked rows, or everyone matching the filter."""
    filters = UserFilters.from_params(request.POST, kind=kind)
    matching = with_status(
        users_for_list(base=users_visible_to(request.user), kind=kind, filters=filters), filters
    )
    if request.POST.get("all_matching") == "1":
        return matching, filters
    ids = [int(v) for v in request.POST.getlist("selected") if v.isdigit()][:5000]
    return matching.filter(pk__in=ids), filters


@admin_required
def people_export(request, kind):
    from accounts.exports import export_filename, users_export

    _kind_or_404(kind)
    if request.method == "POST":
        users, filters = _selection(request, kind)
        file_format = request.POST.get("format", "csv")
    else:
        filters = UserFilters.from_params(request.GET, kind=kind)
        users = with_status(
            users_for_list(base=users_visible_to(request.user), kind=kind, filters=filters), filters
        )
        file_format = request.GET.get("format", "csv")
    if file_format not in ("csv", "xlsx"):
        file_format = "csv"
    content, content_type, _ext = users_export(
        users=users.order_by("last_name", "first_name", "id"), kind=kind, file_format=file_format
    )
    response = HttpResponse(content, content_type=content_type)
    name = export_filename(request.district, kind, file_format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin_required
@require_POST
def students_assign_case_manager(request):
    students, filters = _selection(request, STUDENTS)
    back = reverse("accounts:students") + "?" + urlencode(filters.as_params())
    typed = request.POST.get("new_case_manager", "")
    manager = _case_manager_named(request.user, typed)
    if typed.strip() and manager is None:
        messages.error(request, NO_SUCH_CASE_MANAGER.format(typed=typed.strip()[:100]))
        return redirect(back)
    if not students.exists():
        messages.error(request, "Select at least one student first")
        return redirect(back)
    changed = services.case_manager_assign(
        students=list(students.select_related("case_manager")), manager=manager, actor=request.user
    )
    who = manager.full_name if manager else "no one"
    messages.success(
        request, f"Case manager set to {who} for {changed} student{'s' if changed != 1 else ''}."
    )
    return redirect(back)


# One person


def _person_context(request, person: User) -> dict:
    is_student = person.role == Role.STUDENT
    if is_student:
        classes = Classroom.objects.filter(enrollments__student=person)
    else:
        classes = person.classrooms_taught.all()
    return {
        "person": person,
        "is_student": is_student,
        "kind": STUDENTS if is_student else STAFF,
        "schools": list(person.schools.order_by("name")),
        "classes": list(classes.select_related("school").order_by("name")),
        "cases": list(person.cases.order_by("last_name", "first_name")) if not is_student else [],
        "invitations": list(
            ActivationToken.objects.filter(district=person.district, user=person).order_by(
                "-created_at"
            )[:10]
        ),
        "logins": list(
            LoginEvent.objects.filter(district=person.district, user=person).order_by(
                "-created_at"
            )[:10]
        ),
        "events": list(
            AuditEvent.objects.filter(
                district=person.district, target_type="user", target_id=person.pk
            )[:25]
        ),
        "reminder_problem": services.invitation_reminder_problem(person),
        "is_self": person.pk == request.user.pk,
    }


@admin_required
def person_detail(request, pk):
    person = user_get_for(request.user, pk)
    template = (
        "accounts/_person_panel.html" if request.htmx_partial else "accounts/person_detail.html"
    )
    return render(request, template, _person_context(request, person))


def _person_form(request, kind, *, data=None, initial=None):
    return PersonForm(
        data,
        initial=initial,
        kind=kind,
        schools=schools_for(request.user),
        year_groups=list(YearGroup.objects.filter(district=request.district)),
        roles=staff_roles_for(request.user) if kind == STAFF else [(Role.STUDENT.value, "Student")],
    )


def _already_created(request, token: str):
    created = request.session.get("created_forms", {})
    return created.get(token) if token else None


def _remember_created(request, token: str, user: User):
    if token:
        created = request.session.get("created_forms", {})
        created[token] = user.pk
        request.session["created_forms"] = dict(list(created.items())[-20:])


@admin_required
def person_create(request, kind):
    labels = _kind_or_404(kind)
    data = request.POST if request.method == "POST" else None
    form = _person_form(request, kind, data=data, initial={"form_token": uuid.uuid4().hex})
    password_form = (
        PasswordChoiceForm(data, initial={"password_mode": "self"}) if kind == STUDENTS else None
    )
    if data is not None:
        earlier = _already_created(request, data.get("form_token", ""))
        if earlier:
            messages.info(request, "This form was already sent: the account exists.")
            return redirect("accounts:person", pk=earlier)
        forms_valid = form.is_valid() and (password_form is None or password_form.is_valid())
        if forms_valid:
            password = None
            if password_form is not None and password_form.cleaned_data["password_mode"] == "staff":
                password = _chosen_password(request, password_form)
            try:
                person = services.user_create(
                    district=request.district,
                    actor=request.user,
                    role=Role.STUDENT if kind == STUDENTS else form.cleaned_data["role"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    email=form.cleaned_data["email"],
                    username=form.cleaned_data["username"],
                    schools=form.cleaned_data["schools"],
                    year_group=form.cleaned_data["year_group"] if kind == STUDENTS else None,
                    password=password,
                )
            except ValidationError as error:
                if (
                    hasattr(error, "error_dict")
                    and "password" in error.error_dict
                    and password_form
                ):
                    password_form.add_error("password", error.error_dict.pop("password"))
                add_service_errors(form, error, "email")
            else:
                _remember_created(request, data.get("form_token", ""), person)
                if password:
                    return _credentials_page(request, person, password, created=True)
                messages.success(
                    request,
                    f"{person.full_name} added. An activation email is on its way to {person.email}.",
                )
                return redirect("accounts:person", pk=person.pk)
    return render(
        request,
        "accounts/person_form.html",
        {
            "form": form,
            "password_form": password_form,
            "kind": kind,
            "labels": labels,
            "creating": True,
            "errors": _all_errors(form, password_form),
        },
    )


def _chosen_password(request, form) -> str:
    """The password an admin typed, or a generated one, as the form says."""
    if form.cleaned_data["password_source"] == "type":
        return form.cleaned_data["password"]
    return services.password_generate(district=request.district)


def _all_errors(*forms):
    """(field id, message) pairs of several forms, for one error summary."""
    errors = []
    for form in forms:
        if form is None or not form.errors:
            continue
        for field in form:
            for message in field.errors:
                target = field.id_for_label
                if field.name in ("password_mode", "password_source", "schools"):
                    target = f"{field.auto_id}_0"
                errors.append((target, message))
        errors += [("main", message) for message in form.non_field_errors()]
    return errors


def _credentials_page(request, person, password, *, created: bool):
    """The only time a set password is shown: rendered in the response, never stored."""
    response = render(
        request,
        "accounts/credentials.html",
        {
            "person": person,
            "password": password,
            "created": created,
            "login_url": request.district.url("/login/"),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@admin_required
def person_edit(request, pk):
    person = user_get_for(request.user, pk)
    kind = STUDENTS if person.role == Role.STUDENT else STAFF
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "username": person.username,
        "role": person.role,
        "schools": [str(s.pk) for s in person.schools.all()],
        "year_group": str(person.year_group_id or ""),
    }
    form = _person_form(request, kind, data=request.POST or None, initial=initial)
    if person.managed_by_sis:
        form.fields["schools"].required = False
    if request.method == "POST" and not person.managed_by_sis and form.is_valid():
        changes = {
            name: form.cleaned_data[name]
            for name in ("first_name", "last_name", "email", "username", "schools")
        }
        if kind == STUDENTS:
            changes["year_group"] = form.cleaned_data["year_group"]
        elif form.cleaned_data["role"] != person.role:
            changes["role"] = form.cleaned_data["role"]
        try:
            services.user_update(user=person, actor=request.user, **changes)
        except ValidationError as error:
            add_service_errors(form, error, "email")
        else:
            messages.success(request, f"Changes to {person.full_name} saved.")
            return redirect("accounts:person", pk=person.pk)
    return render(
        request,
        "accounts/person_form.html",
        {
            "form": form,
            "kind": kind,
            "labels": KINDS[kind],
            "creating": False,
            "person": person,
            "errors": _all_errors(form),
        },
    )


@admin_required
def person_set_password(request, pk):
    person = user_get_for(request.user, pk)
    if person.password_mode != PasswordMode.STAFF:
        messages.error(
            request, f"{person.full_name} sets their own password: send a reset email instead."
        )
        return redirect("accounts:person", pk=person.pk)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = _chosen_password(request, form)
        try:
            services.password_set_by_admin(user=person, password=password, actor=request.user)
        except ValidationError as error:
            form.add_error("password", error.messages)
        else:
            return _credentials_page(request, person, password, created=False)
    return render(
        request,
        "accounts/person_set_password.html",
        {"person": person, "form": form, "errors": _all_errors(form)},
    )


# Actions on one person: POST only, each redirecting back with a banner.


def _act(request, pk, call, done: str, *, back_to_list: bool = False, undo: str | None = None):
    person = user_get_for(request.user, pk)
    try:
        call(person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:person", pk=person.pk)
    messages.success(
        request, done.format(name=person.full_name, email=person.email), extra_tags=undo or ""
    )
    if back_to_list:
        return redirect(f"accounts:{STUDENTS if person.role == Role.STUDENT else STAFF}")
    return redirect("accounts:person", pk=person.pk)


# What each one-click action calls, and what the banner says after it.
ONE_CLICK_ACTIONS = {
    "resend_invitation": (
        services.activation_send,
        "A new activation email is on its way to {email}.",
    ),
    "remind": (services.invitation_remind, "A reminder is on its way to {email}."),
    "send_reset": (
        services.password_reset_send,
        "A password reset email is on its way to {email}.",
    ),
    "reactivate": (services.user_reactivate, "{name} reactivated: they can sign in again."),
}


@admin_required
@require_POST
def person_action(request, pk, action):
    call, done = ONE_CLICK_ACTIONS[action]
    return _act(request, pk, lambda p: call(user=p, actor=request.user), done)


@admin_required
@require_POST
def person_case_manager(request, pk):
    form = CaseManagerForm(request.POST)
    form.is_valid()
    typed = form.cleaned_data.get("case_manager", "")
    manager = _case_manager_named(request.user, typed)
    if typed.strip() and manager is None:
        messages.error(request, NO_SUCH_CASE_MANAGER.format(typed=typed.strip()[:100]))
        return redirect("accounts:person", pk=pk)
    return _act(
        request,
        pk,
        lambda p: services.case_manager_assign(students=[p], manager=manager, actor=request.user),
        f"Case manager of {{name}} set to {manager.full_name if manager else 'no one'}.",
    )


def _confirm(request, pk, *, template, call, done, back_to_list=False, undo=None):
    """Deactivate and delete ask first: a page (or, with JS, a dialog) that names the person."""
    if request.method == "POST":
        return _act(request, pk, call, done, back_to_list=back_to_list, undo=undo)
    person = user_get_for(request.user, pk)
    return render(request, template, {"person": person, "is_self": person.pk == request.user.pk})


@admin_required
def person_deactivate(request, pk):
    return _confirm(
        request,
        pk,
        template="accounts/person_deactivate.html",
        call=lambda p: services.user_deactivate(user=p, actor=request.user),
        done="{name} deactivated: they can no longer sign in.",
        undo=f"undo:{reverse('accounts:person_reactivate', args=[pk])}",
    )


@admin_required
def person_delete(request, pk):
    return _confirm(
        request,
        pk,
        template="accounts/person_delete.html",
        call=lambda p: services.user_delete(user=p, actor=request.user),
        done="{name} deleted.",
        back_to_list=True,
    )
