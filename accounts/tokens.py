"""One-time tokens for activation and reset links: random, stored as SHA-256, single-use.

A token is bound to user, district and purpose, expires (district settings), and
is voided when a new one is issued or the user is deactivated or changes password.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from accounts.models import ActivationToken, TokenPurpose, User


class TokenInvalid(Exception):
    """Why a link cannot be used: unknown, expired, used or voided."""

    def __init__(self, reason: str, token: ActivationToken | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token = token


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lifetime(user: User, purpose: str) -> timedelta:
    if purpose == TokenPurpose.ACTIVATE:
        return timedelta(days=user.district.activation_days)
    return timedelta(hours=user.district.reset_hours)


def token_issue(
    *, user: User, purpose: str, dispatch_key: str, created_by: User | None = None
) -> tuple[ActivationToken, str]:
    """Creates a token, voiding the user's earlier live ones of any purpose; returns it and the raw value."""
    now = timezone.now()
    tokens_void(user=user, now=now)
    raw = secrets.token_urlsafe(32)
    token = ActivationToken.objects.create(
        district=user.district,
        user=user,
        purpose=purpose,
        token_hash=token_hash(raw),
        dispatch_key=dispatch_key,
        created_at=now,
        expires_at=now + token_lifetime(user, purpose),
        created_by=created_by,
    )
    return token, raw


def tokens_void(*, user: User, now=None) -> int:
    return ActivationToken.objects.filter(
        district=user.district, user=user, used_at__isnull=True, voided_at__isnull=True
    ).update(voided_at=now or timezone.now())


def token_check(*, district, raw: str, purpose: str, for_update: bool = False) -> ActivationToken:
    """The live token for this link in this district, or TokenInvalid saying why not."""
    if not raw or len(raw) > 100:
        raise TokenInvalid("unknown")
    tokens = ActivationToken.objects.filter(
        district=district, purpose=purpose, token_hash=token_hash(raw)
    ).select_related("user", "user__district")
    if for_update:
        tokens = tokens.select_for_update(of=("self",))
    token = tokens.first()
    if token is None:
        raise TokenInvalid("unknown")
    if token.used_at:
        raise TokenInvalid("used", token)
    if token.voided_at:
        raise TokenInvalid("voided", token)
    if token.expires_at <= timezone.now():
        raise TokenInvalid("expired", token)
    if not token.user.is_active:
        raise TokenInvalid("voided", token)
    return token
