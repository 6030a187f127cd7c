"""Settings > Bulk actions: the history of every bulk action, each one's per-person
results with before and after, its progress while it runs, and undo."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Status
from bulkactions import services
from bulkactions.models import BulkActionStatus, ItemOutcome
from bulkactions.operations import OPERATIONS
from bulkactions.selectors import bulk_action_get_for, bulk_actions_visible_to
from bulkactions.views import admin_required
from schools.models import YearGroup


def _describe(action) -> str:
    operation = OPERATIONS.get(action.action)
    return operation.describe(action.params, action.district) if operation else action.action


@admin_required
def action_list(request):
    page = Paginator(bulk_actions_visible_to(request.user), 25).get_page(request.GET.get("page"))
    for action in page:
        action.description = _describe(action)
    return render(request, "bulkactions/action_list.html", {"page": page})


def _readable(values: dict, years: dict) -> str:
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        if name.startswith("classroom:"):
            parts.append("In the class" if value else "Not in the class")
        elif name.startswith("teaches:"):
            parts.append("Teaches the class" if value else "Does not teach the class")
        elif name.startswith("school:"):
            parts.append("At the school" if value else "Not at the school")
        elif name == "year_group_id":
            parts.append(f"Year group: {years.get(value, 'none')}")
        elif name == "status":
            parts.append(f"Status: {Status(value).label if value in Status.values else value}")
        else:
            parts.append(f"{name.replace('_', ' ').capitalize()}: {value}")
    return "; ".join(parts)


@admin_required
def action_detail(request, pk):
    action = bulk_action_get_for(request, pk)
    outcome = request.GET.get("outcome", "")
    items = action.items.all()
    if outcome in ItemOutcome.values:
        items = items.filter(outcome=outcome)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    years = dict(YearGroup.objects.filter(district=request.district).values_list("pk", "name"))
    for item in page:
        item.before_text = _readable(item.before, years)
        item.after_text = _readable(item.after, years)
    counts = dict(action.items.values_list("outcome").annotate(n=Count("id")))
    operation = OPERATIONS.get(action.action)
    undo = type(action).objects.filter(district=request.district, undo_of=action).first()
    rollover = getattr(action, "rollover", None) if action.action == "rollover" else None
    rollover_problem = services.rollover_undo_problem(rollover) if rollover else None
    return render(
        request,
        "bulkactions/action_detail.html",
        {
            "action": action,
            "description": _describe(action),
            "page": page,
            "outcome": outcome if outcome in ItemOutcome.values else "",
            "outcomes": [(v, label, counts.get(v, 0)) for v, label in ItemOutcome.choices],
            "running": action.status in (BulkActionStatus.QUEUED, BulkActionStatus.RUNNING),
            **_eta(action),
            "can_undo": bool(
                operation
                and operation.undoable
                and action.status == BulkActionStatus.DONE
                and action.changed_count
                and undo is None
                and not rollover_problem
            ),
            "rollover_problem": rollover_problem if action.changed_count else None,
            "undo": undo,
        },
    )


@admin_required
def action_progress(request, pk):
    action = bulk_action_get_for(request, pk)
    if action.status not in (BulkActionStatus.QUEUED, BulkActionStatus.RUNNING):
        response = HttpResponse(status=286)
        response["HX-Redirect"] = reverse("bulkactions:action_detail", args=[action.pk])
        return response
    return render(request, "bulkactions/_action_progress.html", {"action": action, **_eta(action)})


def _eta(action) -> dict:
    """Seconds left from the pace so far; spoken every 10% (UI.md: progress)."""
    from django.utils import timezone

    done, total = action.done_count, action.total or 1
    left = None
    if action.started_at and done:
        elapsed = (timezone.now() - action.started_at).total_seconds()
        left = max(1, round(elapsed / done * (total - done)))
    if left is None:
        eta = "Starting…"
    elif left >= 90:
        eta = f"About {round(left / 60)} minutes left"
    else:
        eta = f"About {left} seconds left"
    return {"eta": eta, "spoken_percent": done * 100 // total // 10 * 10}


@admin_required
@require_POST
def action_undo(request, pk):
    action = bulk_action_get_for(request, pk)
    try:
        if action.action == "rollover":
            undo = services.rollover_undo(rollover=action.rollover, actor=request.user)
        else:
            undo = services.bulk_action_undo(bulk_action=action, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("bulkactions:action_detail", pk=action.pk)
    return redirect("bulkactions:action_detail", pk=undo.pk)


def _credentials_action(request, pk):
    """Only the admin who ran it, signed in, until it expires (as for imports)."""
    from django.http import Http404

    action = bulk_action_get_for(request, pk)
    if action.action != "reset_password" or action.created_by_id != request.user.pk:
        raise Http404("No credentials for you here")
    return action


@admin_required
def action_credentials(request, pk):
    action = _credentials_action(request, pk)
    return render(
        request,
        "bulkactions/action_credentials.html",
        {"action": action, "expired": not action.has_credentials},
    )


@admin_required
def action_credentials_download(request, pk, file_format):
    from bulkactions.importing.results import bulk_action_credentials
    from bulkactions.views import credentials_download

    action = _credentials_action(request, pk)
    if not action.has_credentials:
        return render(
            request,
            "bulkactions/action_credentials.html",
            {"action": action, "expired": True},
            status=410,
        )
    return credentials_download(
        request,
        target=action,
        people=bulk_action_credentials(action),
        file_format=file_format,
        file_name=f"bulk-action-{action.pk}-sign-in-details",
    )
