"""Settings > Imports: upload, match columns, watch progress, review and fix, create,
results and credentials. Each view: access → form → service → redirect or partial."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.exports import dataset_content
from accounts.models import Role
from bulkactions import services
from bulkactions.forms import ImportUploadForm
from bulkactions.importing import results
from bulkactions.importing.columns import fields_for, required_fields
from bulkactions.importing.commit import rows_needing_hash, rows_pending
from bulkactions.importing.review import rows_for_review
from bulkactions.models import ImportJob, ImportKind, ImportStatus, RowOutcome, RowStatus
from bulkactions.selectors import (
    error_fields,
    import_get_for,
    import_row_get_for,
    imports_visible_to,
    outcome_counts,
)
from schools.models import School, YearGroup
from schools.permissions import role_required

admin_required = role_required(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
ROWS_PER_PAGE = 50


def _job_url(job: ImportJob) -> str:
    return reverse("bulkactions:import_detail", args=[job.pk])


@admin_required
def import_list(request):
    page = Paginator(imports_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "bulkactions/import_list.html", {"page": page})


def _guide(request) -> dict:
    schools = School.objects.filter(district=request.district)
    if request.user.role == Role.SCHOOL_ADMIN:
        schools = schools.filter(members=request.user)
    return {
        "schools": list(schools),
        "year_groups": list(YearGroup.objects.filter(district=request.district)),
        "staff_fields": fields_for(ImportKind.STAFF),
        "student_fields": fields_for(ImportKind.STUDENTS, "set"),
        "staff_required": required_fields(ImportKind.STAFF, "email"),
        "student_required": required_fields(ImportKind.STUDENTS, "email"),
        "max_rows": settings.IMPORT_MAX_ROWS,
        "max_mb": settings.IMPORT_MAX_FILE_MB,
    }


@admin_required
def import_new(request):
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_start(
                    district=request.district,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    password_mode=form.cleaned_data["password_mode"],
                    mode=form.cleaned_data["mode"],
                    file_name=upload.name,
                    data=upload.read(),
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else "file", errors)
            else:
                return redirect(_job_url(job))
    else:
        kind = request.GET.get("kind")
        form = ImportUploadForm(
            initial={
                "kind": kind if kind in ImportKind.values else None,
                "mode": "create",
                "password_mode": "email",
            }
        )
    return render(request, "bulkactions/import_new.html", {"form": form, **_guide(request)})


@admin_required
def import_template(request, kind, file_format):
    if kind not in ImportKind.values or file_format not in ("csv", "xlsx"):
        raise Http404("No such template")
    import tablib

    fields = fields_for(kind, "set" if kind == ImportKind.STUDENTS else "email")
    years = list(YearGroup.objects.filter(district=request.district)[:1])
    school = School.objects.filter(district=request.district).first()
    example = {
        f.name: (f.example_student if kind == ImportKind.STUDENTS else f.example_staff)
        for f in fields
    }
    example["schools"] = school.name if school else ""
    if kind == ImportKind.STUDENTS:
        example["year_group"] = years[0].name if years else "Year 7"
    dataset = tablib.Dataset(headers=[f.label for f in fields])
    dataset.append([example.get(f.name, "") for f in fields])
    content = dataset_content(dataset, file_format)
    response = HttpResponse(
        content,
        content_type="text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="rollbook-{kind}-template.{file_format}"'
    )
    return response


def _progress(job: ImportJob) -> dict:
    """Where a running step is, for the bar and the spoken text: done, total, seconds left."""
    if job.status == ImportStatus.VALIDATING:
        label, done, total = "rows checked", job.processed_rows, job.total_rows
    elif (
        job.status == ImportStatus.COMMITTING
        and job.sets_passwords
        and rows_needing_hash(job).exists()
    ):
        total = job.rows_to_create
        label, done = "passwords prepared", total - rows_needing_hash(job).count()
    else:
        total = job.rows_to_create
        label, done = "accounts written", total - rows_pending(job).count()
    seconds_left = None
    if job.started_at and done and total:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        seconds_left = max(1, round(elapsed / done * (total - done)))
    percent = round(done * 100 / total) if total else 0
    if seconds_left is None:
        eta = "Starting…"
    elif seconds_left >= 90:
        eta = f"About {round(seconds_left / 60)} minutes left"
    else:
        eta = f"About {seconds_left} seconds left"
    return {
        "eta": eta,
        # Spoken with the percentage, so in steps too: whole minutes or 15 seconds.
        "eta_spoken": eta.lower() if seconds_left and seconds_left >= 90 else "",
        "label": label,
        "done": done,
        "total": total,
        "percent": percent,
        # The spoken text changes every 10% only (UI.md: progress, SC 4.1.3).
        "spoken_percent": percent // 10 * 10,
        "seconds_left": seconds_left,
        "stalled": services.import_is_stalled(job),
    }


def _review_context(request, job: ImportJob) -> dict:
    errors_only = request.GET.get("errors") == "1"
    field = request.GET.get("field", "")
    rows = rows_for_review(job, errors_only=errors_only)
    if errors_only and field:
        rows = rows.filter(errors__has_key=field)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    labels = {f.name: f.label for f in fields_for(job.kind, job.password_mode)}
    labels["_row"] = "Whole row"
    return {
        "page": page,
        "errors_only": errors_only,
        "error_field": field if field in labels else "",
        "fields": _shown_fields(job),
        "error_fields": [(name, labels.get(name, name), n) for name, n in error_fields(job)],
    }


def _shown_fields(job: ImportJob):
    mapped = set(job.mapping.values()) | {"username"}
    return [f for f in fields_for(job.kind, job.password_mode) if f.name in mapped]


def _results_context(request, job: ImportJob) -> dict:
    outcome = request.GET.get("outcome", "")
    rows = job.rows.exclude(outcome="").order_by("number")
    if outcome in RowOutcome.values:
        rows = rows.filter(outcome=outcome)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    counts = outcome_counts(job)
    return {
        "page": page,
        "outcome": outcome if outcome in RowOutcome.values else "",
        "outcomes": [
            (value, label, counts.get(value, 0))
            for value, label in RowOutcome.choices
            if counts.get(value)
        ],
        "can_see_credentials": job.has_credentials and job.created_by_id == request.user.pk,
    }


@admin_required
def import_detail(request, pk):
    job = import_get_for(request, pk)
    context = {"job": job}
    if job.status == ImportStatus.MAPPING:
        return _mapping_page(request, job)
    if job.is_running:
        context["progress"] = _progress(job)
        return render(request, "bulkactions/import_progress.html", context)
    if job.status == ImportStatus.REVIEW:
        context.update(_review_context(request, job))
        return render(request, "bulkactions/import_review.html", context)
    if job.status == ImportStatus.DONE:
        context.update(_results_context(request, job))
        return render(request, "bulkactions/import_results.html", context)
    return render(request, "bulkactions/import_closed.html", context)


@admin_required
def import_progress(request, pk):
    """Polled by the progress page; once the step has finished, the page reloads itself."""
    job = import_get_for(request, pk)
    if not job.is_running:
        response = HttpResponse(status=286)  # htmx: stop polling
        response["HX-Redirect"] = _job_url(job)
        return response
    return render(
        request, "bulkactions/_import_progress.html", {"job": job, "progress": _progress(job)}
    )


def _mapping_page(request, job: ImportJob, errors: dict | None = None, chosen=None):
    from bulkactions.importing.parse import table_read

    samples: list[list[str]] = []
    try:
        table = table_read(bytes(job.file_data), file_name=job.file_name)
        for _number, cells in table.rows:
            samples.append(cells)
            if len(samples) == 2:
                break
    except Exception:  # noqa: BLE001 - the header was read at upload; samples are a nicety
        samples = []
    chosen = chosen if chosen is not None else job.mapping
    columns = [
        {
            "index": str(i),
            "header": header or f"Column {i + 1}",
            "samples": [row[i] for row in samples if i < len(row) and row[i].strip()],
            "chosen": chosen.get(str(i), ""),
            "errors": (errors or {}).get(f"column-{i}", []),
        }
        for i, header in enumerate(job.header)
    ]
    return render(
        request,
        "bulkactions/import_mapping.html",
        {
            "job": job,
            "columns": columns,
            "fields": fields_for(job.kind, job.password_mode),
            "required": required_fields(job.kind, job.password_mode),
            "general_errors": (errors or {}).get("__all__", []),
            "has_errors": bool(errors),
        },
    )


@admin_required
@require_POST
def import_map(request, pk):
    job = import_get_for(request, pk)
    if job.status != ImportStatus.MAPPING:
        return redirect(_job_url(job))
    chosen = {
        str(i): request.POST.get(f"column-{i}", "")
        for i in range(len(job.header))
        if request.POST.get(f"column-{i}", "")
    }
    try:
        services.import_map(job=job, actor=request.user, mapping=chosen)
    except ValidationError as error:
        return _mapping_page(request, job, errors=error.message_dict, chosen=chosen)
    return redirect(_job_url(job))


def _row_response(request, row, *, editing=False, announce=""):
    job = row.job
    job.refresh_from_db(
        fields=["valid_rows", "warning_rows", "error_rows", "removed_rows", "status"]
    )
    template = "bulkactions/_import_row_form.html" if editing else "bulkactions/_import_row.html"
    return render(
        request,
        template,
        {
            "job": job,
            "row": row,
            "fields": _shown_fields(job)
            if not editing
            else fields_for(job.kind, job.password_mode),
            "announce": announce,
            "oob": not editing,
            "focus_edit": bool(announce),
            "focus_field": next(
                (f.name for f in fields_for(job.kind, job.password_mode) if f.name in row.errors),
                "first_name",
            ),
        },
    )


@admin_required
def import_row(request, pk, number):
    job = import_get_for(request, pk)
    row = import_row_get_for(request, job, number)
    if request.method == "POST":
        values = {
            f.name: request.POST.get(f.name, "")
            for f in fields_for(job.kind, job.password_mode)
            if f.name in request.POST
        }
        try:
            row = services.import_row_fix(row=row, actor=request.user, values=values)
        except ValidationError as error:
            return HttpResponse(error.messages[0], status=409)
        job.refresh_from_db(fields=["error_rows"])
        state = "fixed" if row.status != RowStatus.ERROR else "still has errors"
        announce = f"Row {row.number} {state}. {job.error_rows:,} row{'s' if job.error_rows != 1 else ''} with errors left."
        return _row_response(request, row, announce=announce)
    return _row_response(request, row, editing=request.GET.get("edit") == "1")


@admin_required
@require_POST
def import_row_remove(request, pk, number):
    job = import_get_for(request, pk)
    row = import_row_get_for(request, job, number)
    try:
        services.import_row_remove(row=row, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_job_url(job))
    if request.headers.get("HX-Request"):
        job.refresh_from_db()
        return render(
            request,
            "bulkactions/_import_row_removed.html",
            {
                "job": job,
                "row": row,
                "oob": True,
                "announce": f"Row {row.number} removed. {job.error_rows:,} rows with errors left.",
            },
        )
    messages.success(request, f"Row {row.number} removed from the import")
    return redirect(_job_url(job))


@admin_required
@require_POST
def import_commit(request, pk):
    job = import_get_for(request, pk)
    try:
        services.import_commit(
            job=job, actor=request.user, skip_errors=request.POST.get("skip_errors") == "1"
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(_job_url(job))


@admin_required
@require_POST
def import_abandon(request, pk):
    job = import_get_for(request, pk)
    try:
        services.import_abandon(job=job, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_job_url(job))
    messages.success(request, f"Import of {job.file_name} abandoned: no account was changed")
    return redirect("bulkactions:import_list")


@admin_required
@require_POST
def import_resume(request, pk):
    job = import_get_for(request, pk)
    services.import_resume(job=job, actor=request.user)
    return redirect(_job_url(job))


@admin_required
def import_results_csv(request, pk):
    job = import_get_for(request, pk)
    if job.status != ImportStatus.DONE:
        raise Http404("No results yet")
    response = HttpResponse(results.results_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-results.csv"'
    return response


def _credentials_job(request, pk) -> ImportJob:
    """Only the admin who ran the import, signed in, before the link expires."""
    job = import_get_for(request, pk)
    if not job.sets_passwords or job.created_by_id != request.user.pk:
        raise Http404("No credentials for you here")
    return job


@admin_required
def import_credentials(request, pk):
    job = _credentials_job(request, pk)
    return render(
        request,
        "bulkactions/import_credentials.html",
        {"job": job, "expired": not job.has_credentials},
    )


@admin_required
def import_credentials_download(request, pk, file_format):
    job = _credentials_job(request, pk)
    if not job.has_credentials:
        return render(
            request,
            "bulkactions/import_credentials.html",
            {"job": job, "expired": True},
            status=410,
        )
    return credentials_download(
        request,
        target=job,
        people=results.credentials(job),
        file_format=file_format,
        file_name=f"import-{job.pk}-sign-in-details",
    )


def credentials_download(request, *, target, people, file_format, file_name):
    """The sign-in details of an import or a bulk action as a file, audited, never cached."""
    made = results.credentials_file(
        district=request.district, people=people, file_format=file_format
    )
    if made is None:
        raise Http404("No such format")
    content, mimetype = made
    services.credentials_download_record(target=target, actor=request.user, what=file_format)
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{file_name}.{file_format}"'
    response["Cache-Control"] = "no-store"
    return response
