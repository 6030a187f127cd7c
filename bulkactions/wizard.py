"""The bulk-action wizard: selection from the Staff or Students list, then
1 review the selection, 2 choose the action, 3 details with a live preview,
4 check and run. The draft lives in the session under its own token, so two tabs
hold two drafts, and a draft runs once: a second submit goes to the action it started."""

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.selectors import UserFilters, users_for_list, users_visible_to, with_status
from bulkactions import services
from bulkactions.models import BulkAction, ImportKind
from bulkactions.operations import OPERATIONS
from bulkactions.views import admin_required
from schools.models import YearGroup

MAX_TICKED = 5000
LABELS = {"students": ("student", "students"), "staff": ("member of staff", "staff")}


def _key(token: str) -> str:
    return f"bulk-draft-{token}"


def _draft(request, token: str) -> dict:
    draft = request.session.get(_key(token))
    if not draft or draft.get("district") != request.district.pk:
        raise Http404("This bulk action draft has expired: start again from the list")
    return draft


def _save(request, token: str, draft: dict) -> None:
    request.session[_key(token)] = draft


def _users(request, draft: dict):
    filters = UserFilters.from_params(draft["filters"], kind=draft["kind"])
    users = with_status(
        users_for_list(base=users_visible_to(request.user), kind=draft["kind"], filters=filters),
        filters,
    )
    if not draft["all_matching"]:
        users = users.filter(pk__in=draft["ids"])
    if draft["excluded"]:
        users = users.exclude(pk__in=draft["excluded"])
    return users


def _operations(kind: str, actor):
    from accounts.models import Role

    return [
        op
        for code, op in OPERATIONS.items()
        if code not in ("undo", "rollover")  # rollover has its own page
        and kind in op.kinds
        and (code != "role" or actor.role == Role.DISTRICT_ADMIN)
    ]


# The one parameter each action asks for on the details step.
PARAMETERS = {
    "year_group": "year_group",
    "role": "role",
    "classroom_add": "classroom",
    "classroom_remove": "classroom",
    "reset_password": "mode",
    "school_add": "school",
    "teacher_classroom_add": "classroom",
}


@admin_required
@require_POST
def wizard_start(request, kind):
    """Takes the list's selection (ticked rows, or all matching the filters)."""
    if kind not in ImportKind.values:
        raise Http404("No such list")
    # Kept as the query string would carry them (text), as from_params reads them.
    filters = {
        name: str(value)
        for name, value in UserFilters.from_params(request.POST, kind=kind).as_params().items()
    }
    all_matching = request.POST.get("all_matching") == "1"
    ids = [int(v) for v in request.POST.getlist("selected") if v.isdigit()][:MAX_TICKED]
    if not all_matching and not ids:
        from django.contrib import messages

        messages.error(request, "Select at least one person, then choose Bulk action")
        return redirect(f"{reverse(f'accounts:{kind}')}?{request.POST.urlencode()}")
    token = uuid.uuid4().hex[:16]
    _save(
        request,
        token,
        {
            "district": request.district.pk,
            "kind": kind,
            "filters": filters,
            "all_matching": all_matching,
            "ids": ids,
            "excluded": [],
            "action": "",
            "params": {},
            "started": None,
        },
    )
    return redirect("bulkactions:wizard_selection", token=token)


MAX_FROM_FILE = 20_000


@admin_required
@require_POST
def wizard_from_file(request):
    """Starts a draft from an uploaded list of emails or usernames (a leavers list, say);
    the lines that matched nobody are shown on the first step, with why."""
    from django.contrib import messages

    from bulkactions.importing.parse import file_size_problem
    from bulkactions.selection import SelectionRejected, people_from_file

    kind = request.POST.get("kind", "")
    upload = request.FILES.get("file")
    problem = None
    if kind not in ImportKind.values:
        problem = "Select staff or students"
    elif upload is None:
        problem = "Select a CSV or Excel file with one column of emails or usernames"
    else:
        problem = file_size_problem(upload.size)
    if not problem:
        try:
            found = people_from_file(
                district=request.district,
                actor=request.user,
                kind=kind,
                data=upload.read(),
                file_name=upload.name,
            )
        except SelectionRejected as error:
            problem = str(error)
        else:
            if not found.user_ids:
                problem = "No line of the file names a person you can act on"
            elif len(found.user_ids) > MAX_FROM_FILE:
                problem = f"The file names more than {MAX_FROM_FILE:,} people: split it"
    if problem:
        messages.error(request, problem)
        return redirect("bulkactions:action_list")
    token = uuid.uuid4().hex[:16]
    _save(
        request,
        token,
        {
            "district": request.district.pk,
            "kind": kind,
            "filters": {},
            "all_matching": False,
            "ids": found.user_ids,
            "excluded": [],
            "action": "",
            "params": {},
            "started": None,
            "file_name": upload.name[:100],
            "unmatched": [[u.line, u.text[:100], u.reason] for u in found.unmatched[:200]],
            "unmatched_count": len(found.unmatched),
        },
    )
    return redirect("bulkactions:wizard_selection", token=token)


def _context(request, token, draft, step: int, **extra) -> dict:
    one, many = LABELS[draft["kind"]]
    return {"token": token, "draft": draft, "step": step, "one": one, "many": many, **extra}


def _started(draft):
    return redirect("bulkactions:action_detail", pk=draft["started"]) if draft["started"] else None


@admin_required
def wizard_selection(request, token):
    draft = _draft(request, token)
    if draft["started"]:
        return _started(draft)
    users = _users(request, draft).order_by("last_name", "first_name", "pk")
    count = users.count()
    return render(
        request,
        "bulkactions/wizard_selection.html",
        _context(request, token, draft, 1, count=count, people=users[:50]),
    )


@admin_required
@require_POST
def wizard_remove(request, token, user_id):
    draft = _draft(request, token)
    if user_id not in draft["excluded"]:
        draft["excluded"].append(user_id)
        _save(request, token, draft)
    return redirect("bulkactions:wizard_selection", token=token)


@admin_required
def wizard_action(request, token):
    draft = _draft(request, token)
    if draft["started"]:
        return _started(draft)
    operations = _operations(draft["kind"], request.user)
    error = ""
    if request.method == "POST":
        chosen = request.POST.get("action", "")
        if chosen in {op.code for op in operations}:
            draft["action"], draft["params"] = chosen, {}
            _save(request, token, draft)
            return redirect("bulkactions:wizard_details", token=token)
        error = "Select what to do"
    return render(
        request,
        "bulkactions/wizard_action.html",
        _context(request, token, draft, 2, operations=operations, error=error),
    )


def _params_from(request, draft) -> dict:
    name = PARAMETERS.get(draft["action"])
    if name is None:
        return {}
    params = {name: request.POST.get(name) or request.GET.get(name, "")}
    if name == "mode" and params["mode"] == "set":
        params["password"] = request.POST.get("password", "")
    return params


def _preview(request, draft, params) -> dict:
    try:
        numbers = services.bulk_action_preview(
            district=request.district,
            actor=request.user,
            kind=draft["kind"],
            action=draft["action"],
            params=params,
            users=_users(request, draft),
        )
    except ValidationError as error:
        return {"problems": error.message_dict if hasattr(error, "error_dict") else {}}
    one, many = LABELS[draft["kind"]]
    n = numbers["change"]
    who = f"{n:,} {one if n == 1 else many}"
    operation = OPERATIONS[draft["action"]]
    verb = {
        "year_group": lambda: f"will move to {_year_name(request, params)}",
        "deactivate": lambda: "will be deactivated and signed out",
        "reactivate": lambda: "will be reactivated",
        "delete": lambda: "will be deleted, with their personal data",
        "reset_email": lambda: "will get a password reset email",
        "resend_invitation": lambda: "will get their invitation again",
        "reset_password": lambda: "will get a new password, to change at first sign-in",
    }.get(draft["action"], lambda: f"will change: {operation.describe(params, request.district)}")()
    skipped = "; ".join(
        f"{count:,} skipped: {reason.lower()}" for reason, count in numbers["skipped"].items()
    )
    return {**numbers, "sentence": f"{who} {verb}" + (f"; {skipped}" if skipped else "") + "."}


def _year_name(request, params) -> str:
    value = str(params.get("year_group", ""))
    year = (
        YearGroup.objects.filter(district=request.district, pk=int(value)).first()
        if value.isdigit()
        else None
    )
    return year.name if year else "the year group"


@admin_required
def wizard_details(request, token):
    draft = _draft(request, token)
    if draft["started"]:
        return _started(draft)
    if not draft["action"]:
        return redirect("bulkactions:wizard_action", token=token)
    name = PARAMETERS.get(draft["action"])
    if name is None:
        return redirect("bulkactions:wizard_confirm", token=token)
    errors = {}
    params = draft["params"]
    if request.method == "POST":
        params = _params_from(request, draft)
        preview = _preview(request, draft, params)
        errors = preview.get("problems", {})
        if not errors:
            if params.get("password"):  # never in clear in the session
                from bulkactions.secrets import secret_seal

                params = {**params, "password": secret_seal(params["password"])}
            draft["params"] = params
            _save(request, token, draft)
            return redirect("bulkactions:wizard_confirm", token=token)
    preview = _preview(request, draft, params) if params and not errors else None
    return render(
        request,
        "bulkactions/wizard_details.html",
        _context(
            request,
            token,
            draft,
            3,
            name=name,
            question=QUESTIONS[name].format(
                terminology=request.district.get_terminology_display().lower()
            ),
            choices=_choices(request, name),
            chosen=str(params.get(name, "")),
            errors=errors,
            preview=preview,
        ),
    )


QUESTIONS = {
    "mode": "How should the new passwords be chosen?",
    "year_group": "Which {terminology} group should they move to?",
    "role": "Which role should they have?",
    "school": "Which school should they be added to?",
    "classroom": "Which class?",
}


def _choices(request, name: str) -> list[tuple[str, str]]:
    from accounts.models import Role
    from schools.selectors import classrooms_visible_to

    if name == "year_group":
        return [(str(y.pk), y.name) for y in YearGroup.objects.filter(district=request.district)]
    if name == "mode":
        return [
            ("generate", "Generate a different password for each student"),
            ("set", "Set the same temporary password for all of them"),
        ]
    if name == "school":
        from schools.selectors import schools_visible_to

        return [(str(school.pk), school.name) for school in schools_visible_to(request.user)]
    if name == "role":
        return [(r, Role(r).label) for r in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)]
    rooms = classrooms_visible_to(request.user).filter(archived_at__isnull=True)
    return [
        (str(c.pk), f"{c.name} ({c.school.name})") for c in rooms.select_related("school")[:500]
    ]


@admin_required
def wizard_preview(request, token):
    """The live preview of the details step (htmx): one sentence, no errors shown."""
    draft = _draft(request, token)
    preview = _preview(request, draft, _params_from(request, draft))
    return render(request, "bulkactions/_wizard_preview.html", {"preview": preview})


def _button(draft, preview, request) -> str:
    one, many = LABELS[draft["kind"]]
    n = preview.get("change", 0)
    who = f"{n:,} {one if n == 1 else many}"
    if draft["action"] == "year_group":
        return f"Move {who} to {_year_name(request, draft['params'])}"
    if draft["action"] in (
        "classroom_add",
        "classroom_remove",
        "role",
        "school_add",
        "teacher_classroom_add",
    ):
        description = OPERATIONS[draft["action"]].describe(draft["params"], request.district)
        return f"{description}: {who}"
    if draft["action"] == "reset_password":
        return f"Set new passwords for {who}"
    if draft["action"] in ("reset_email", "resend_invitation"):
        return f"Email {who}"
    return f"{OPERATIONS[draft['action']].label} {who}"


@admin_required
def wizard_confirm(request, token):
    draft = _draft(request, token)
    if draft["started"]:
        return _started(draft)
    if not draft["action"]:
        return redirect("bulkactions:wizard_action", token=token)
    preview = _preview(request, draft, draft["params"])
    if preview.get("problems"):
        return redirect("bulkactions:wizard_details", token=token)
    operation = OPERATIONS[draft["action"]]
    return render(
        request,
        "bulkactions/wizard_confirm.html",
        _context(
            request,
            token,
            draft,
            4,
            preview=preview,
            operation=operation,
            description=operation.describe(draft["params"], request.district),
            count=_users(request, draft).count(),
            button=_button(draft, preview, request),
        ),
    )


@admin_required
@require_POST
def wizard_run(request, token):
    draft = _draft(request, token)
    if draft["started"]:
        return _started(draft)  # a second click or a second tab: the first run stands
    selection = "All matching the list's filters" if draft["all_matching"] else "Ticked on the list"
    if draft["excluded"]:
        selection += f", less {len(draft['excluded'])} removed"
    earlier = BulkAction.objects.filter(district=request.district, request_key=token).first()
    if earlier is not None:
        return redirect("bulkactions:action_detail", pk=earlier.pk)
    params = dict(draft["params"])
    if params.get("password"):
        from bulkactions.secrets import secret_open

        params["password"] = secret_open(params["password"])
    try:
        action = services.bulk_action_start(
            district=request.district,
            actor=request.user,
            kind=draft["kind"],
            action=draft["action"],
            params=params,
            users=_users(request, draft),
            selection=selection,
            request_key=token,
        )
    except services.AlreadyStarted as started:
        return redirect("bulkactions:action_detail", pk=started.bulk_action.pk)
    except ValidationError as error:
        from django.contrib import messages

        messages.error(request, error.messages[0])
        return redirect("bulkactions:wizard_confirm", token=token)
    draft["started"] = action.pk
    _save(request, token, draft)
    return redirect("bulkactions:action_detail", pk=action.pk)
