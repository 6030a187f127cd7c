from django.urls import path

from rostering import views

app_name = "rostering"

urlpatterns = [
    path("settings/rostering/", views.rostering_home, name="home"),
    path("settings/rostering/grades/", views.grade_mapping, name="grades"),
    path("settings/rostering/connections/new/", views.connection_create, name="connection_new"),
    path("settings/rostering/connections/<int:pk>/", views.connection_edit, name="connection_edit"),
    path(
        "settings/rostering/connections/<int:pk>/toggle/",
        views.connection_toggle,
        name="connection_toggle",
    ),
    path(
        "settings/rostering/connections/<int:pk>/test/",
        views.connection_test,
        name="connection_test",
    ),
    path(
        "settings/rostering/connections/<int:pk>/sync/",
        views.connection_sync,
        name="connection_sync",
    ),
    path("settings/rostering/connections/<int:pk>/upload/", views.connection_upload, name="upload"),
    path("settings/rostering/runs/<int:pk>/", views.run_detail, name="run"),
    path("settings/rostering/runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("settings/rostering/runs/<int:pk>/reject/", views.run_reject, name="run_reject"),
]
