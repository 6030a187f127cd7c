"""Holds users whose password someone else chose on the change-password page until they change it."""

from django.shortcuts import redirect
from django.urls import reverse

ALLOWED_PATHS = ("/password/change/", "/logout/", "/static/", "/branding/logo/")


class ForcedPasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            getattr(request, "district", None) is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(ALLOWED_PATHS)
        ):
            return redirect(reverse("accounts:password_change"))
        return self.get_response(request)
