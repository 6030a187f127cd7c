from django.urls import path

from schools import views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("settings/branding/", views.branding_settings, name="branding"),
    path("branding/logo/<int:version>/", views.logo, name="logo"),
    path("branding/theme.css", views.theme_css, name="theme_css"),
]
