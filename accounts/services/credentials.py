"""Passwords and the emailed links that set them: activation, reset, change.

The raw token of a link exists only inside the worker that sends the email: the
service schedules the email, the task issues the token, mails it and marks it sent.
"""

import uuid
from datetime import timedelta

from django.contrib.auth.password_validation import MinimumLengthValidator, validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import audit, emails
from accounts.models import ActivationToken, AuditEvent, Role, Status, TokenPurpose, User
from accounts.selectors import user_for_identifier
from accounts.tokens import token_check, token_issue, tokens_void
from schools.models import District

RESET_REQUESTS_PER_HOUR = 5

# Django's validator messages, said as what to do (UI.md: never "invalid").
PASSWORD_MESSAGES = {
    "password_too_common": "Choose a less common password: this one is on a list of "
    "passwords people often use",
    "password_entirely_numeric": "Include letters or symbols: a password cannot be only numbers",
    "password_too_similar": "Choose a password that is less like your name, username or email",
}


def password_validate(*, user: User, password: str) -> None:
    """The district's policy (minimum length) and Django's validators, in plain words."""
    minimum = user.district.password_min_length if user.district_id else 8
    messages = []
    try:
        validate_password(password, user, password_validators=None)
    except ValidationError as error:
        messages += [PASSWORD_MESSAGES.get(e.code, e.messages[0]) for e in error.error_list]
    try:
        MinimumLengthValidator(min_length=minimum).validate(password)
    except ValidationError:
        messages.insert(0, f"Enter a password with at least {minimum} characters")
    if messages:
        raise ValidationError(messages)


def _schedule_token_email(*, user: User, purpose: str, actor: User | None) -> str:
    from accounts.tasks import send_token_email

    dispatch_key = uuid.uuid4().hex
    actor_id = actor.pk if actor else None
    transaction.on_commit(
        lambda: send_token_email.delay(user.district_id, user.pk, purpose, dispatch_key, actor_id)
    )
    return dispatch_key


def activation_send(*, user: User, actor: User | None) -> None:
    """Emails an activation link (again), voiding any earlier link when it is sent."""
    if user.status != Status.INVITED:
        raise ValidationError(
            "This account is already activated or deactivated: send a password reset instead"
        )
    if not user.email:
        raise ValidationError("This account has no email address to send an invitation to")
    with transaction.atomic():
        _schedule_token_email(user=user, purpose=TokenPurpose.ACTIVATE, actor=actor)
        User.objects.filter(pk=user.pk).update(invited_at=timezone.now())
        audit.record(actor=actor, action="accounts.activation.sent", target=user)


def token_email_deliver(
    *, user_id: int, purpose: str, dispatch_key: str, actor_id: int | None
) -> ActivationToken | None:
    """Issues the token of one email request and sends it; a retry sends nothing twice."""
    with transaction.atomic():
        user = User.objects.select_related("district").filter(pk=user_id).first()
        if user is None or not user.email or not user.is_active:
            return None
        if purpose == TokenPurpose.ACTIVATE and user.status != Status.INVITED:
            return None
        earlier = ActivationToken.objects.filter(
            district=user.district, dispatch_key=dispatch_key
        ).first()
        if earlier and earlier.sent_at:
            return earlier
        if earlier:
            earlier.delete()  # issued but never mailed: its raw value is gone
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        token, raw = token_issue(
            user=user, purpose=purpose, dispatch_key=dispatch_key, created_by=actor
        )
    emails.token_link(user=user, token=token, raw=raw, inviter=actor)
    ActivationToken.objects.filter(pk=token.pk).update(sent_at=timezone.now())
    return token


def _set_password(*, user: User, password: str, must_change: bool) -> None:
    user.set_password(password)
    user.must_change_password = must_change
    user.password_changed_at = timezone.now()
    if user.status == Status.INVITED:
        user.status = Status.ACTIVE
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "password_changed_at",
            "status",
            "updated_at",
        ]
    )
    tokens_void(user=user)


def _notify_password_changed(user: User) -> None:
    from accounts.tasks import send_password_changed_email

    if user.email:
        transaction.on_commit(lambda: send_password_changed_email.delay(user.district_id, user.pk))


def _use_token(*, district: District, raw: str, purpose: str, password: str, action: str) -> User:
    with transaction.atomic():
        token = token_check(district=district, raw=raw, purpose=purpose, for_update=True)
        user = token.user
        password_validate(user=user, password=password)
        before = {"status": user.status}
        token.used_at = timezone.now()
        token.save(update_fields=["used_at"])
        _set_password(user=user, password=password, must_change=False)
        audit.record(
            actor=user, action=action, target=user, before=before, after={"status": user.status}
        )
        if purpose == TokenPurpose.RESET:
            _notify_password_changed(user)
    return user


def user_activate(*, district: District, raw_token: str, password: str) -> User:
    """The invited user sets their first password through their link."""
    return _use_token(
        district=district,
        raw=raw_token,
        purpose=TokenPurpose.ACTIVATE,
        password=password,
        action="accounts.user.activated",
    )


def password_reset(*, district: District, raw_token: str, password: str) -> User:
    return _use_token(
        district=district,
        raw=raw_token,
        purpose=TokenPurpose.RESET,
        password=password,
        action="accounts.password.reset",
    )


def password_reset_request(*, district: District, identifier: str) -> None:
    """Sends a reset link, or a fresh activation link to a user still invited. Says nothing
    about whether the account exists: the caller shows the same page either way."""
    user = user_for_identifier(district=district, identifier=identifier)
    if user is None or not user.email or not user.is_active:
        return
    recent = AuditEvent.objects.filter(
        district=district,
        target_type="user",
        target_id=user.pk,
        action__in=["accounts.reset.requested", "accounts.activate.requested"],
        created_at__gte=timezone.now() - timedelta(hours=1),
    )
    if recent.count() >= RESET_REQUESTS_PER_HOUR:
        return  # nobody's inbox is flooded by someone else typing their name
    with transaction.atomic():
        purpose = TokenPurpose.ACTIVATE if user.status == Status.INVITED else TokenPurpose.RESET
        _schedule_token_email(user=user, purpose=purpose, actor=None)
        audit.record(actor=None, action=f"accounts.{purpose}.requested", target=user)


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """The signed-in user changes their own password (also the forced first change)."""
    errors = {}
    if not user.check_password(current_password):
        errors["current_password"] = ["Enter your current password correctly"]
    elif current_password == new_password:
        errors["new_password"] = ["Choose a new password that is different from the current one"]
    else:
        try:
            password_validate(user=user, password=new_password)
        except ValidationError as error:
            errors["new_password"] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        forced = user.must_change_password
        _set_password(user=user, password=new_password, must_change=False)
        audit.record(
            actor=user, action="accounts.password.changed", target=user, after={"forced": forced}
        )
        _notify_password_changed(user)
    return user


def password_set_by_admin(*, user: User, password: str, actor: User | None) -> User:
    """An admin or teacher sets a password; the user must change it unless exempt."""
    password_validate(user=user, password=password)
    exempt = user.role == Role.STUDENT and user.district.students_exempt_from_password_change
    with transaction.atomic():
        _set_password(user=user, password=password, must_change=not exempt)
        audit.record(
            actor=actor,
            action="accounts.password.set_by_admin",
            target=user,
            after={"must_change_password": not exempt},
        )
    return user


REMINDER_GAP = timedelta(hours=24)
WORDS = (
    "amber anchor apple arrow aspen badger bamboo beacon birch bison bloom breeze brook "
    "cactus canyon cedar cherry clover comet coral cotton crane daisy delta dune eagle "
    "ember falcon fern fjord forest fox garnet glacier grape harbor hazel heron honey "
    "island ivy jade jasmine kite koala lagoon lantern lemon lilac lotus maple marble "
    "meadow meteor mint moss nectar nutmeg oak ocean olive orbit otter panda pearl pebble "
    "pepper pine planet plum prairie quartz raven reef river robin saffron sage sequoia "
    "shell sierra silver sparrow spruce summit swan thistle tiger topaz tulip tundra "
    "valley velvet violet walnut willow winter wren zebra"
).split()


def password_generate(*, district) -> str:
    """A password a child can type and a teacher can read out: two words and two digits,
    long enough for the district's policy."""
    import secrets

    while True:
        password = "-".join(secrets.choice(WORDS) for _ in range(2)) + str(
            secrets.randbelow(90) + 10
        )
        if len(password) >= district.password_min_length:
            return password
        if district.password_min_length > 20:
            return "-".join(secrets.choice(WORDS) for _ in range(5)) + str(secrets.randbelow(90))


def invitation_reminder_problem(user: User, now=None) -> str | None:
    """Why a reminder cannot be sent now, in words for the disabled button; None if it can."""
    now = now or timezone.now()
    if user.status != Status.INVITED:
        return "Only people who have not activated their account yet get reminders"
    if not user.email:
        return "This account has no email address"
    if user.invited_at and now - user.invited_at < REMINDER_GAP:
        next_time = user.invited_at + REMINDER_GAP
        return f"The last email went less than 24 hours ago; remind after {next_time:%d %b %H:%M}"
    return None


def invitation_remind(*, user: User, actor: User | None) -> None:
    """Sends the activation link again, at most once a day."""
    problem = invitation_reminder_problem(user)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        _schedule_token_email(user=user, purpose=TokenPurpose.ACTIVATE, actor=actor)
        User.objects.filter(pk=user.pk).update(
            invited_at=timezone.now(), reminders_sent=user.reminders_sent + 1
        )
        audit.record(actor=actor, action="accounts.invitation.reminded", target=user)


def reminders_send_due(*, district, now=None) -> int:
    """The district's automatic reminders: invitations still open N days after the last
    email, at most three per person. Returns how many were sent."""
    if not district.reminder_after_days:
        return 0
    now = now or timezone.now()
    due = User.objects.filter(
        district=district,
        status=Status.INVITED,
        reminders_sent__lt=3,
        invited_at__lte=now - timedelta(days=district.reminder_after_days),
    ).exclude(email="")
    sent = 0
    for user in due.iterator():
        invitation_remind(user=user, actor=None)
        sent += 1
    return sent


def password_reset_send(*, user: User, actor: User | None) -> None:
    """An admin emails someone a reset link (or a new activation link if still invited)."""
    if not user.email:
        raise ValidationError("This account has no email address: set a new password instead")
    if not user.is_active:
        raise ValidationError("Reactivate this account before sending it a reset link")
    with transaction.atomic():
        purpose = TokenPurpose.ACTIVATE if user.status == Status.INVITED else TokenPurpose.RESET
        _schedule_token_email(user=user, purpose=purpose, actor=actor)
        audit.record(actor=actor, action=f"accounts.{purpose}.sent_by_admin", target=user)
