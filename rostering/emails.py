"""The email district admins get when a sync fails or is held for their approval."""

from accounts import mail
from rostering.models import RunStatus, SyncRun
from rostering.services import district_admins

ERRORS_SHOWN = 10


def run_alert(*, run_id: int) -> None:
    run = SyncRun.objects.select_related("district", "connection").filter(pk=run_id).first()
    if run is None or run.status not in (RunStatus.FAILED, RunStatus.HELD):
        return
    context = {
        "run": run,
        "errors": run.errors[:ERRORS_SHOWN],
        "more_errors": max(len(run.errors) - ERRORS_SHOWN, 0),
        "url": run.district.url(f"/settings/rostering/runs/{run.pk}/"),
    }
    for admin in district_admins(run.district):
        mail.send(
            district=run.district,
            to=admin.email,
            template="roster-run-failed" if run.status == RunStatus.FAILED else "roster-run-held",
            context={**context, "admin": admin},
        )
