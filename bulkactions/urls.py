from django.urls import path

from bulkactions import history, rollover_pages, views, wizard

app_name = "bulkactions"
urlpatterns = [
    # Settings > Imports (district and school admins)
    path("settings/imports/", views.import_list, name="import_list"),
    path("settings/imports/new/", views.import_new, name="import_new"),
    path(
        "settings/imports/template/<str:kind>.<str:file_format>",
        views.import_template,
        name="import_template",
    ),
    path("settings/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("settings/imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("settings/imports/<int:pk>/columns/", views.import_map, name="import_map"),
    path("settings/imports/<int:pk>/rows/<int:number>/", views.import_row, name="import_row"),
    path(
        "settings/imports/<int:pk>/rows/<int:number>/remove/",
        views.import_row_remove,
        name="import_row_remove",
    ),
    path("settings/imports/<int:pk>/create/", views.import_commit, name="import_commit"),
    path("settings/imports/<int:pk>/abandon/", views.import_abandon, name="import_abandon"),
    path("settings/imports/<int:pk>/resume/", views.import_resume, name="import_resume"),
    path("settings/imports/<int:pk>/results.csv", views.import_results_csv, name="import_results"),
    path(
        "settings/imports/<int:pk>/credentials/",
        views.import_credentials,
        name="import_credentials",
    ),
    path(
        "settings/imports/<int:pk>/credentials/sign-in-details.<str:file_format>",
        views.import_credentials_download,
        name="import_credentials_download",
    ),
    # Settings > Bulk actions: history, results, undo
    path("settings/bulk-actions/", history.action_list, name="action_list"),
    path("settings/bulk-actions/<int:pk>/", history.action_detail, name="action_detail"),
    path(
        "settings/bulk-actions/<int:pk>/progress/",
        history.action_progress,
        name="action_progress",
    ),
    path("settings/bulk-actions/<int:pk>/undo/", history.action_undo, name="action_undo"),
    # The bulk-action wizard, from a list's selection
    path("settings/bulk-actions/new/<str:kind>/", wizard.wizard_start, name="wizard_start"),
    path(
        "settings/bulk-actions/draft/<str:token>/", wizard.wizard_selection, name="wizard_selection"
    ),
    path(
        "settings/bulk-actions/draft/<str:token>/remove/<int:user_id>/",
        wizard.wizard_remove,
        name="wizard_remove",
    ),
    path(
        "settings/bulk-actions/draft/<str:token>/action/",
        wizard.wizard_action,
        name="wizard_action",
    ),
    path(
        "settings/bulk-actions/draft/<str:token>/details/",
        wizard.wizard_details,
        name="wizard_details",
    ),
    path(
        "settings/bulk-actions/draft/<str:token>/preview/",
        wizard.wizard_preview,
        name="wizard_preview",
    ),
    path(
        "settings/bulk-actions/draft/<str:token>/check/",
        wizard.wizard_confirm,
        name="wizard_confirm",
    ),
    path("settings/bulk-actions/draft/<str:token>/run/", wizard.wizard_run, name="wizard_run"),
    path("settings/bulk-actions/rollover/", rollover_pages.rollover_page, name="rollover"),
    path(
        "settings/bulk-actions/rollover/<int:school_id>/",
        rollover_pages.rollover_run,
        name="rollover_run",
    ),
    path(
        "settings/bulk-actions/<int:pk>/credentials/",
        history.action_credentials,
        name="action_credentials",
    ),
    path(
        "settings/bulk-actions/<int:pk>/credentials/sign-in-details.<str:file_format>",
        history.action_credentials_download,
        name="action_credentials_download",
    ),
    path("settings/bulk-actions/new-from-file/", wizard.wizard_from_file, name="wizard_from_file"),
]
