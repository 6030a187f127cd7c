"""District pages: the signed-in home, branding settings, and the branding assets."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import Role, Status, User
from accounts.views import add_service_errors
from schools import services
from schools.branding import text_colour_on
from schools.forms import BrandingForm
from schools.models import Classroom, School
from schools.permissions import district_admin_required


@login_required
def home(request):
    district = request.district
    context = {}
    if request.user.is_admin:
        users = User.objects.filter(district=district)
        context["counts"] = {
            "schools": School.objects.filter(district=district).count(),
            "classrooms": Classroom.objects.filter(district=district, archived_at=None).count(),
            "students": users.filter(role=Role.STUDENT).exclude(status=Status.DEACTIVATED).count(),
            "staff": users.filter(role__in=[Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN])
            .exclude(status=Status.DEACTIVATED)
            .count(),
            "invited": users.filter(status=Status.INVITED).count(),
        }
    return render(request, "schools/home.html", context)


def _branding_initial(district):
    return {name: getattr(district, name) for name in services.SETTINGS_FIELDS}


@district_admin_required
def branding_settings(request):
    district = request.district
    form = BrandingForm(
        request.POST or None, request.FILES or None, initial=_branding_initial(district)
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.SETTINGS_FIELDS}
        upload = form.cleaned_data.get("logo")
        try:
            services.district_settings_update(
                district=district,
                actor=request.user,
                logo=upload.read() if upload else None,
                remove_logo=form.cleaned_data["remove_logo"],
                **data,
            )
        except ValidationError as error:
            add_service_errors(form, error, "brand_colour")
        else:
            colour = data["brand_colour"]
            shade = "white" if text_colour_on(colour) == "#ffffff" else "dark"
            messages.success(
                request,
                f"Branding and sign-in settings saved. Text on {colour} is {shade} so that it "
                "stays readable.",
            )
            return redirect("schools:branding")
    return render(
        request,
        "schools/branding.html",
        {"form": form, "logo_max_kb": settings.LOGO_MAX_BYTES // 1024},
    )


@require_GET
def logo(request, version):
    district = request.district
    if not district.logo:
        raise Http404("No logo")
    response = HttpResponse(bytes(district.logo), content_type=district.logo_content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def theme_css(request):
    """The brand colour as CSS variables: the CSP forbids inline styles."""
    colour = request.district.brand_colour
    css = f":root{{--brand:{colour};--brand-text:{text_colour_on(colour)};}}\n"
    response = HttpResponse(css, content_type="text/css")
    response["ETag"] = hashlib.sha256(css.encode()).hexdigest()[:16]
    response["Cache-Control"] = "public, max-age=300"
    return response


def platform_landing(request):
    return render(request, "platform/landing.html")
