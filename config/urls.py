"""URLs of a district's host. The platform host has its own map: config/urls_platform.py."""

from django.urls import include, path

from accounts import outbox

urlpatterns = [
    path("", include("schools.urls")),
    path("", include("accounts.urls")),
    path("", include("bulkactions.urls")),
    path("", include("rostering.urls")),
    path("dev/outbox/", outbox.outbox_list, name="outbox"),
    path("dev/outbox/<int:pk>/", outbox.outbox_detail, name="outbox_detail"),
    path("dev/outbox/<int:pk>/html/", outbox.outbox_html, name="outbox_html"),
    path(
        "dev/outbox/<int:pk>/attachments/<int:index>/",
        outbox.outbox_attachment,
        name="outbox_attachment",
    ),
]

handler404 = "schools.errors.not_found"
handler403 = "schools.errors.forbidden"
handler500 = "schools.errors.server_error"
