"""Sign-in attempts: recorded for statistics and used to throttle guessing."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import LoginEvent, User
from schools.models import District


def _normalise(identifier: str) -> str:
    return identifier.strip().lower()[:254]


def login_is_throttled(*, district: District, identifier: str, ip: str | None) -> bool:
    """Too many recent failures for this name in this district, or from this address anywhere.
    Counted by what was typed, so a throttled unknown name looks like a throttled real one."""
    rules = settings.LOGIN_THROTTLE
    since = timezone.now() - timedelta(minutes=rules["window_minutes"])
    failures = LoginEvent.objects.filter(succeeded=False, created_at__gte=since)
    by_account = failures.filter(district=district, identifier=_normalise(identifier)).count()
    if by_account >= rules["per_account"]:
        return True
    if ip:
        with scopes_disabled():
            by_ip = LoginEvent.objects.filter(succeeded=False, created_at__gte=since, ip=ip)
            return by_ip.count() >= rules["per_ip"]
    return False


def login_record(
    *, district: District, identifier: str, ip: str | None, user: User | None
) -> LoginEvent:
    return LoginEvent.objects.create(
        district=district,
        user=user,
        identifier=_normalise(identifier),
        ip=ip,
        succeeded=user is not None,
    )
