"""Settings > Bulk actions > Annual rollover: one card per school, with the preview per
year group before it runs and, once it has run, who ran it and when, greyed out until
the next academic year."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from bulkactions import services
from bulkactions.services.rollover import next_start
from bulkactions.views import admin_required
from schools.models import School


def _schools(request):
    schools = School.objects.filter(district=request.district)
    if request.user.role == Role.SCHOOL_ADMIN:
        schools = schools.filter(members=request.user)
    return list(schools)


@admin_required
def rollover_page(request):
    district = request.district
    year = services.academic_year(district)
    cards = []
    for school in _schools(request):
        done = services.rollover_current(district, school)
        lines = [] if done else services.rollover_preview(district=district, school=school)
        cards.append(
            {
                "school": school,
                "done": done,
                "lines": lines,
                "total": sum(line["count"] for line in lines),
            }
        )
    return render(
        request,
        "bulkactions/rollover.html",
        {
            "cards": cards,
            "year": year,
            "next_start": next_start(district, year),
        },
    )


@admin_required
@require_POST
def rollover_run(request, school_id):
    school = next((s for s in _schools(request) if s.pk == school_id), None)
    if school is None:
        from django.http import Http404

        raise Http404("No such school")
    try:
        action = services.rollover_start(
            district=request.district,
            actor=request.user,
            school=school,
            leavers=request.POST.get("leavers", ""),
            archive_classrooms=request.POST.get("archive_classrooms") == "1",
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("bulkactions:rollover")
    return redirect("bulkactions:action_detail", pk=action.pk)
