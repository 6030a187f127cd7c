"""Settings > Integrations > Rostering: connections, uploads, Sync now, runs with their
diff, held runs to approve, and the grade mapping. District admins only: the roster
is the whole district's."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rostering import services
from rostering.forms import ConnectionForm, UploadForm
from rostering.models import (
    ConnectionKind,
    Entity,
    RosterConnection,
    RunStatus,
    SyncRun,
    Trigger,
)
from rostering.oneroster import spec
from rostering.oneroster.errors import SourceError
from rostering.selectors import (
    change_fields_readable,
    connection_get_for,
    run_change_kinds,
    run_changes,
    run_get_for,
    runs_chart,
)
from schools.models import YearGroup
from schools.permissions import district_admin_required

ENTITY_LABELS = {
    Entity.USER: "Accounts",
    Entity.CLASS: "Classes",
    "enrollment": "Enrolments",
    "guardian_link": "Guardian links",
    Entity.ORG: "Schools and orgs",
    Entity.SESSION: "Terms",
}
COLUMNS = ("created", "updated", "linked", "restored", "deactivated", "removed", "unchanged")


def _counts_table(run) -> list[dict]:
    rows = []
    for entity, label in ENTITY_LABELS.items():
        counts = run.counts.get(entity)
        if counts:
            rows.append({"label": label, "cells": [counts.get(c, 0) for c in COLUMNS]})
    return rows


@district_admin_required
def rostering_home(request):
    connections = list(RosterConnection.objects.filter(district=request.district))
    for connection in connections:
        connection.last_run = connection.runs.first()
    runs = SyncRun.objects.filter(district=request.district).select_related("connection")
    held = runs.filter(status=RunStatus.HELD)
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    applied = list(runs.filter(status=RunStatus.APPLIED)[:20])
    return render(
        request,
        "rostering/home.html",
        {
            "connections": connections,
            "held": held,
            "page": page,
            "chart": runs_chart(applied) if applied else None,
        },
    )


def _connection_form_page(request, form, connection=None):
    return render(
        request,
        "rostering/connection_form.html",
        {"form": form, "connection": connection},
        status=400 if form.errors else 200,
    )


def _apply_errors(form, error: ValidationError):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@district_admin_required
def connection_create(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        secret = values.pop("secret")
        try:
            connection = services.connection_create(
                district=request.district, actor=request.user, secret=secret, **values
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Connection “{connection.name}” created.")
            return redirect("rostering:home")
    return _connection_form_page(request, form)


@district_admin_required
def connection_edit(request, pk):
    connection = connection_get_for(request, pk)
    initial = {name: getattr(connection, name) for name in services.CONNECTION_FIELDS}
    form = ConnectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        secret = values.pop("secret")
        try:
            services.connection_update(
                connection=connection, actor=request.user, secret=secret, **values
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Connection “{connection.name}” saved.")
            return redirect("rostering:home")
    return _connection_form_page(request, form, connection)


@district_admin_required
@require_POST
def connection_toggle(request, pk):
    connection = connection_get_for(request, pk)
    services.connection_update(
        connection=connection, actor=request.user, is_enabled=not connection.is_enabled
    )
    state = "enabled" if connection.is_enabled else "disabled: it will not sync on its schedule"
    messages.success(request, f"Connection “{connection.name}” {state}.")
    return redirect("rostering:home")


@district_admin_required
@require_POST
def connection_test(request, pk):
    connection = connection_get_for(request, pk)
    try:
        summary = services.connection_test(connection=connection)
    except SourceError as error:
        messages.error(request, f"Connection “{connection.name}” failed: {error}")
    else:
        messages.success(request, f"{connection.name}: {summary}")
    return redirect("rostering:home")


@district_admin_required
@require_POST
def connection_sync(request, pk):
    connection = connection_get_for(request, pk)
    if connection.kind == ConnectionKind.CSV_UPLOAD:
        return redirect("rostering:upload", pk=connection.pk)
    run = services.run_start(
        connection=connection,
        actor=request.user,
        trigger=Trigger.MANUAL,
        dry_run=request.POST.get("dry_run") == "1",
    )
    return redirect("rostering:run", pk=run.pk)


@district_admin_required
def connection_upload(request, pk):
    connection = connection_get_for(request, pk)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = services.run_start(
                connection=connection,
                actor=request.user,
                trigger=Trigger.UPLOAD,
                dry_run=form.cleaned_data["dry_run"],
                bundle=upload.read(),
                bundle_name=upload.name,
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("rostering:run", pk=run.pk)
    return render(
        request,
        "rostering/upload.html",
        {"form": form, "connection": connection},
        status=400 if form.errors else 200,
    )


@district_admin_required
def run_detail(request, pk):
    run = run_get_for(request, pk)
    if request.htmx_partial and not run.is_running:
        # The run has ended: the whole page (its diff below the status) is due, not a part.
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    entity, action = request.GET.get("entity", ""), request.GET.get("action", "")
    changes = run_changes(run, entity=entity, action=action)
    template = "rostering/_run_status.html" if request.htmx_partial else "rostering/run.html"
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    change_fields_readable(page, request.district)
    context = {
        "run": run,
        "counts": _counts_table(run),
        "columns": COLUMNS,
        "page": page,
        "entity": entity,
        "action": action,
        "kinds": run_change_kinds(run),
        "running": run.is_running,
    }
    return render(request, template, context)


@district_admin_required
@require_POST
def run_approve(request, pk):
    run = run_get_for(request, pk)
    try:
        services.run_approve(run=run, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Approved: the run is being applied.")
    return redirect("rostering:run", pk=run.pk)


@district_admin_required
@require_POST
def run_reject(request, pk):
    run = run_get_for(request, pk)
    try:
        services.run_reject(run=run, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Rejected: nothing of this run was applied.")
    return redirect("rostering:run", pk=run.pk)


@district_admin_required
def grade_mapping(request):
    groups = list(YearGroup.objects.filter(district=request.district))
    grades = [g for g in spec.GRADES]
    if request.method == "POST":
        chosen = {grade: request.POST.get(f"grade-{grade}", "") for grade in grades}
        try:
            services.grade_mapping_set(
                district=request.district, actor=request.user, mapping=chosen
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Grade mapping saved: the next sync uses it.")
            return redirect(reverse("rostering:grades"))
    by_grade = {g.grade_code: g.pk for g in groups if g.grade_code}
    rows = [
        {
            "code": grade,
            "name": spec.GRADE_NAMES.get(grade) or f"Grade {int(grade)}",
            "current": by_grade.get(grade),
        }
        for grade in grades
    ]
    return render(request, "rostering/grades.html", {"rows": rows, "groups": groups})
