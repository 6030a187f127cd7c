"""URLs of the bare BASE_DOMAIN: the platform landing page and the admin for operators."""

from django.contrib import admin
from django.urls import path

from schools.views import platform_landing

admin.site.site_header = "Rollbook platform"
admin.site.site_title = "Rollbook platform"

urlpatterns = [
    path("", platform_landing, name="platform_landing"),
    path("admin/", admin.site.urls),
]
