from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("activate/<str:token>/", views.activate_view, name="activate"),
    path("password/forgot/", views.forgot_password_view, name="forgot_password"),
    path("password/forgot/sent/", views.forgot_password_sent_view, name="forgot_password_sent"),
    path("password/reset/<str:token>/", views.password_reset_view, name="password_reset"),
    path("password/change/", views.password_change_view, name="password_change"),
]
