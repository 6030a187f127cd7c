"""Reads the Rostering pages share: always inside the request's district, 404 otherwise."""

from django.http import Http404

from rostering.models import RosterConnection, SyncRun


def connection_get_for(request, pk) -> RosterConnection:
    found = RosterConnection.objects.filter(district=request.district, pk=pk).first()
    if found is None:
        raise Http404("No such connection")
    return found


def run_get_for(request, pk) -> SyncRun:
    found = (
        SyncRun.objects.filter(district=request.district, pk=pk)
        .select_related("connection", "created_by", "approved_by")
        .first()
    )
    if found is None:
        raise Http404("No such run")
    return found


def runs_chart(runs) -> dict:
    """Bars of created, updated and deactivated accounts per applied run, oldest first,
    as inline SVG geometry (DESIGN §6: charts are drawn on the server)."""
    runs = list(reversed(runs))
    series = [
        (
            run,
            run.counts.get("user", {}).get("created", 0),
            run.counts.get("user", {}).get("updated", 0),
            run.counts.get("user", {}).get("deactivated", 0),
        )
        for run in runs
    ]
    top = max([max(c, u, d) for _, c, u, d in series] + [1])
    width, height, gap = 640, 160, 4
    slot = width / max(len(series), 1)
    bar = max(min((slot - gap) / 3, 24), 2)
    bars = []
    for index, (run, *values) in enumerate(series):
        for offset, (value, kind) in enumerate(
            zip(values, ("created", "updated", "deactivated"), strict=True)
        ):
            h = round(value / top * height, 1)
            bars.append(
                {
                    "x": round(index * slot + offset * bar, 1),
                    "y": round(height - h, 1),
                    "h": h,
                    "w": round(bar - 1, 1),
                    "kind": kind,
                    "value": value,
                    "run": run,
                }
            )
    return {"bars": bars, "width": width, "height": height, "top": top, "series": series}
