from django.urls import path

from schools import classrooms, views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("settings/branding/", views.branding_settings, name="branding"),
    path("branding/logo/<int:version>/", views.logo, name="logo"),
    path("branding/theme.css", views.theme_css, name="theme_css"),
    # Settings > Classrooms (district and school admins)
    path("settings/classrooms/", classrooms.classroom_list, name="classroom_list"),
    path("settings/classrooms/new/", classrooms.classroom_create, name="classroom_create"),
    path("settings/classrooms/<int:pk>/", classrooms.classroom_detail, name="classroom_detail"),
    path(
        "settings/classrooms/<int:pk>/find/",
        classrooms.classroom_picker,
        name="classroom_picker",
    ),
    path(
        "settings/classrooms/<int:pk>/rename/",
        classrooms.classroom_rename,
        name="classroom_rename",
    ),
    path(
        "settings/classrooms/<int:pk>/archive/",
        classrooms.classroom_archive,
        name="classroom_archive",
    ),
    path(
        "settings/classrooms/<int:pk>/unarchive/",
        classrooms.classroom_unarchive,
        name="classroom_unarchive",
    ),
    path(
        "settings/classrooms/<int:pk>/teachers/<int:user_id>/add/",
        classrooms.classroom_teacher_add,
        name="classroom_teacher_add",
    ),
    path(
        "settings/classrooms/<int:pk>/teachers/<int:user_id>/remove/",
        classrooms.classroom_teacher_remove,
        name="classroom_teacher_remove",
    ),
    path(
        "settings/classrooms/<int:pk>/students/<int:user_id>/add/",
        classrooms.classroom_student_add,
        name="classroom_student_add",
    ),
    path(
        "settings/classrooms/<int:pk>/students/<int:user_id>/remove/",
        classrooms.classroom_student_remove,
        name="classroom_student_remove",
    ),
    # A teacher's own classes and students (read-only)
    path("my/classes/", classrooms.my_classes, name="my_classes"),
    path("my/classes/<int:pk>/", classrooms.my_class, name="my_class"),
    path("my/students/", classrooms.my_students, name="my_students"),
]
