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
