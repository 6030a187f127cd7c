"""Reads the Rostering pages share: always inside the request's district, 404 otherwise."""

from django.db.models import Count
from django.http import Http404

from rostering.models import ChangeAction, Entity, RosterConnection, SyncRun


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


def run_changes(run, *, entity: str = "", action: str = ""):
    """A run's listed changes, of one kind when the filters name a known one."""
    changes = run.changes.all()
    if entity in Entity.values:
        changes = changes.filter(entity=entity)
    if action in ChangeAction.values:
        changes = changes.filter(action=action)
    return changes


FIELD_LABELS = {
    "role": "Role",
    "first_name": "First name",
    "last_name": "Last name",
    "username": "Username",
    "email": "Email",
    "sis_id": "SIS id",
    "status": "Status",
    "year_group_id": "Year group",
    "year_group": "Year group",
    "schools": "Schools",
    "school": "School",
    "name": "Name",
    "code": "Code",
    "term": "Term",
    "account": "Account",
}


def change_fields_readable(changes, district) -> None:
    """Gives each change `readable`: (label, before, after) with names for the ids a
    diff holds (year groups, schools, terms) and labels for roles and statuses."""
    from accounts.models import Role, Status
    from schools.models import School, Term, YearGroup

    names = {
        "year_group_id": dict(
            YearGroup.objects.filter(district=district).values_list("pk", "name")
        ),
        "school": dict(School.objects.filter(district=district).values_list("pk", "name")),
        "term": dict(Term.objects.filter(district=district).values_list("pk", "name")),
    }
    names["year_group"] = names["year_group_id"]
    names["schools"] = names["school"]
    labels = {**dict(Role.choices), **dict(Status.choices)}

    def shown(field, value):
        if value is None or value == "":
            return None
        if isinstance(value, list):
            return ", ".join(filter(None, (shown(field, v) for v in value))) or None
        if isinstance(value, str) and value.startswith("new "):
            code = value[4:]
            return f"new ({'grade ' + code if field.startswith('year_group') else code})"
        if field in names:
            return names[field].get(value, str(value))
        return labels.get(value, value) if field in ("role", "status") else value

    for change in changes:
        change.readable = [
            (FIELD_LABELS.get(field, field), shown(field, values[0]), shown(field, values[1]))
            for field, values in change.fields.items()
        ]


def run_change_kinds(run) -> list[tuple]:
    """(entity, action, their labels, how many) for the filter links of a run's page."""
    kinds = run.changes.values_list("entity", "action").annotate(n=Count("id")).order_by("entity")
    return [
        (e, a, Entity(e).label if e in Entity.values else e, ChangeAction(a).label, n)
        for e, a, n in kinds
    ]


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
