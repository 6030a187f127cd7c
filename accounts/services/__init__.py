"""Every write to accounts goes through these functions (views, tasks and commands call them)."""

from accounts.services.credentials import (
    activation_send,
    password_change,
    password_reset,
    password_reset_request,
    password_set_by_admin,
    password_validate,
    token_email_deliver,
    user_activate,
)
from accounts.services.logins import login_is_throttled, login_record
from accounts.services.users import (
    user_create,
    user_deactivate,
    user_reactivate,
    username_generate,
)

__all__ = [
    "activation_send",
    "login_is_throttled",
    "login_record",
    "password_change",
    "password_reset",
    "password_reset_request",
    "password_set_by_admin",
    "password_validate",
    "token_email_deliver",
    "user_activate",
    "user_create",
    "user_deactivate",
    "user_reactivate",
    "username_generate",
]
