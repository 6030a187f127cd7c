from django.urls import path

from accounts import people, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("activate/<str:token>/", views.activate_view, name="activate"),
    path("password/forgot/", views.forgot_password_view, name="forgot_password"),
    path("password/forgot/sent/", views.forgot_password_sent_view, name="forgot_password_sent"),
    path("password/reset/<str:token>/", views.password_reset_view, name="password_reset"),
    path("password/change/", views.password_change_view, name="password_change"),
    # Settings > Staff and Settings > Students
    path(
        "settings/students/case-manager/",
        people.students_assign_case_manager,
        name="students_case_manager",
    ),
    *[
        route
        for kind in ("students", "staff")
        for route in (
            path(f"settings/{kind}/", people.people_list, {"kind": kind}, name=f"{kind}"),
            path(
                f"settings/{kind}/new/", people.person_create, {"kind": kind}, name=f"{kind}_create"
            ),
            path(
                f"settings/{kind}/export/",
                people.people_export,
                {"kind": kind},
                name=f"{kind}_export",
            ),
        )
    ],
    path("settings/people/<int:pk>/", people.person_detail, name="person"),
    path("settings/people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path(
        "settings/people/<int:pk>/password/", people.person_set_password, name="person_set_password"
    ),
    path(
        "settings/people/<int:pk>/resend-invitation/",
        people.person_action,
        {"action": "resend_invitation"},
        name="person_resend_invitation",
    ),
    path(
        "settings/people/<int:pk>/remind/",
        people.person_action,
        {"action": "remind"},
        name="person_remind",
    ),
    path(
        "settings/people/<int:pk>/send-reset/",
        people.person_action,
        {"action": "send_reset"},
        name="person_send_reset",
    ),
    path(
        "settings/people/<int:pk>/deactivate/", people.person_deactivate, name="person_deactivate"
    ),
    path(
        "settings/people/<int:pk>/reactivate/",
        people.person_action,
        {"action": "reactivate"},
        name="person_reactivate",
    ),
    path("settings/people/<int:pk>/delete/", people.person_delete, name="person_delete"),
    path(
        "settings/people/<int:pk>/case-manager/",
        people.person_case_manager,
        name="person_case_manager",
    ),
]
