"""Reads the import pages share: which jobs this admin may see, and a job's rows."""

from django.db.models import Count
from django.http import Http404

from accounts.models import Role
from bulkactions.models import ImportJob, ImportRow, RowStatus


def imports_visible_to(user):
    """District admins see every import of the district; a school admin sees their own,
    since another admin's file may hold people of schools they do not manage."""
    jobs = ImportJob.objects.filter(district=user.district).select_related("created_by")
    if user.role != Role.DISTRICT_ADMIN:
        jobs = jobs.filter(created_by=user)
    return jobs.defer("file_data")


def import_get_for(request, pk: int) -> ImportJob:
    job = imports_visible_to(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import")
    return job


def import_row_get_for(request, job: ImportJob, number: int) -> ImportRow:
    row = ImportRow.objects.filter(district=request.district, job=job, number=number).first()
    if row is None:
        raise Http404("No such row")
    row.job = job
    return row


def error_fields(job: ImportJob, limit: int = 20000) -> list[tuple[str, int]]:
    """How many rows have an error in each field, most first (the first `limit` error rows)."""
    counts: dict[str, int] = {}
    rows = ImportRow.objects.filter(job=job, status=RowStatus.ERROR).values_list(
        "errors", flat=True
    )
    for errors in rows[:limit].iterator(chunk_size=2000):
        for name in errors:
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


def outcome_counts(job: ImportJob) -> dict[str, int]:
    return dict(ImportRow.objects.filter(job=job).values_list("outcome").annotate(n=Count("id")))


def bulk_actions_visible_to(user):
    """As for imports: district admins see every bulk action, a school admin their own."""
    from bulkactions.models import BulkAction

    actions = BulkAction.objects.filter(district=user.district).select_related("created_by")
    if user.role != Role.DISTRICT_ADMIN:
        actions = actions.filter(created_by=user)
    return actions


def bulk_action_get_for(request, pk: int):
    action = bulk_actions_visible_to(request.user).filter(pk=pk).first()
    if action is None:
        raise Http404("No such bulk action")
    return action
