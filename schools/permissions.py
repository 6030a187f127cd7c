"""Who may open which page: roles inside the request's district."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.models import Role


def role_required(*roles: str):
    """Signed-in users of other roles get a 403 page that says what to do."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


district_admin_required = role_required(Role.DISTRICT_ADMIN)
