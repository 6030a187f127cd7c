"""One function per account email that is not a link (links: services.credentials)."""

from accounts import mail
from accounts.models import ActivationToken, TokenPurpose, User


def password_changed(*, user_id: int) -> None:
    user = User.objects.select_related("district").filter(pk=user_id).first()
    if user is None or not user.email:
        return
    mail.send(
        district=user.district,
        to=user.email,
        template="password-changed",
        context={"user": user, "forgot_url": user.district.url("/password/forgot/")},
    )


def token_link(*, user: User, token: ActivationToken, raw: str, inviter: User | None) -> None:
    """The activation or reset email: the only place the raw token is ever written."""
    if token.purpose == TokenPurpose.ACTIVATE:
        path, template = f"/activate/{raw}/", "activation"
    else:
        path, template = f"/password/reset/{raw}/", "password-reset"
    mail.send(
        district=user.district,
        to=user.email,
        template=template,
        context={
            "user": user,
            "inviter": inviter,
            "link": user.district.url(path),
            "expires_at": token.expires_at,
            "forgot_url": user.district.url("/password/forgot/"),
        },
    )
