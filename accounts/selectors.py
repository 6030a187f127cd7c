"""Reads of accounts that several pages, services and the sign-in backend share."""

from django.http import Http404

from accounts.models import User
from schools.models import District


def user_for_identifier(*, district: District, identifier: str) -> User | None:
    """What a person typed to sign in: an email when it names exactly one account in the
    district, otherwise a username. Case-insensitive; never looks outside the district."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > 254:
        return None
    users = User.objects.filter(district=district).select_related("district")
    if "@" in identifier:
        by_email = list(users.filter(email__iexact=identifier)[:2])
        if len(by_email) == 1:
            return by_email[0]
    return users.filter(username__iexact=identifier).first()


def user_get_for(request, pk) -> User:
    """A user of the request's district, or 404 (never a 403 that confirms it exists)."""
    user = User.objects.filter(district=request.district, pk=pk).first()
    if user is None:
        raise Http404("No such user")
    return user
