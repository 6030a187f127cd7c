"""Sign-in by email or username, inside the request's district only.

Every way of failing (unknown name, wrong password, invited, deactivated, denied)
computes exactly one password hash, so failures cannot be told apart by timing.
"""

from django.contrib.auth.hashers import make_password

from accounts.models import User
from accounts.selectors import user_for_identifier
from schools.tenancy import active_district_id


def burn_hash(password: str) -> None:
    """One hash that matches the cost of checking a real password."""
    make_password(password)


class DistrictBackend:
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        district = getattr(request, "district", None)
        if district is None:
            user = (
                User.objects.with_scopes_disabled()
                .filter(district__isnull=True, is_superuser=True, username__iexact=username.strip())
                .first()
            )
        else:
            user = user_for_identifier(district=district, identifier=username)
        if user is None or not user.has_usable_password():
            burn_hash(password)
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id):
        district_id = active_district_id()
        if district_id is None:
            users = User.objects.with_scopes_disabled().filter(
                district__isnull=True, is_superuser=True
            )
        else:
            users = User.objects.filter(district_id=district_id)
        user = users.select_related("district").filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

    # Permissions: platform operators are superusers; districts use roles, not perms.
    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and user_obj.is_superuser

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and user_obj.is_superuser
