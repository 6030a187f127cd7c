"""The email an admin gets when their import has finished."""

from accounts import mail
from bulkactions.importing.results import results_csv, row_message
from bulkactions.models import ImportJob, ImportRow, RowOutcome

PROBLEMS_SHOWN = 20


def import_summary(*, job_id: int) -> None:
    job = ImportJob.objects.select_related("district", "created_by").filter(pk=job_id).first()
    if job is None or job.created_by is None or not job.created_by.email:
        return
    problems = [
        {
            "number": row.number,
            "outcome": RowOutcome(row.outcome).label,
            "message": row_message(row),
        }
        for row in ImportRow.objects.filter(
            job=job, outcome__in=(RowOutcome.FAILED, RowOutcome.SKIPPED)
        ).order_by("number")[:PROBLEMS_SHOWN]
    ]
    attachments = []
    if job.created_count:
        attachments.append(
            (
                f"import-{job.pk}-created-accounts.csv",
                results_csv(job, created_only=True),
                "text/csv",
            )
        )
    mail.send(
        district=job.district,
        to=job.created_by.email,
        template="import-summary",
        context={
            "job": job,
            "admin": job.created_by,
            "problems": problems,
            "more_problems": job.failed_count + job.skipped_count - len(problems),
            "results_url": job.district.url(f"/settings/imports/{job.pk}/"),
            "credentials_url": job.district.url(f"/settings/imports/{job.pk}/credentials/")
            if job.has_credentials
            else "",
        },
        attachments=attachments,
    )


def bulk_action_summary(*, bulk_action_id: int) -> None:
    """To the admin who ran it: counts, the reasons people were skipped, and a CSV of
    each person's result (never a password)."""
    from collections import Counter

    from bulkactions.importing.results import _csv
    from bulkactions.models import BulkAction
    from bulkactions.operations import OPERATIONS

    action = (
        BulkAction.objects.select_related("district", "created_by")
        .filter(pk=bulk_action_id)
        .first()
    )
    if action is None or action.created_by is None or not action.created_by.email:
        return
    items = action.items.order_by("pk")
    reasons = Counter(items.exclude(outcome="changed").values_list("message", flat=True).iterator())
    content = _csv(
        ["Person", "Outcome", "Reason"],
        ([item.user_label, item.get_outcome_display(), item.message] for item in items.iterator()),
    )
    operation = OPERATIONS.get(action.action)
    mail.send(
        district=action.district,
        to=action.created_by.email,
        template="bulk-action-summary",
        context={
            "action": action,
            "admin": action.created_by,
            "description": operation.describe(action.params, action.district)
            if operation
            else action.action,
            "reasons": reasons.most_common(10),
            "url": action.district.url(f"/settings/bulk-actions/{action.pk}/"),
            "credentials_url": action.district.url(
                f"/settings/bulk-actions/{action.pk}/credentials/"
            )
            if action.action == "reset_password" and action.changed_count
            else "",
        },
        attachments=[(f"bulk-action-{action.pk}-results.csv", content, "text/csv")],
    )
