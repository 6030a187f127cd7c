"""Every write to accounts goes through these functions (views, tasks and commands call them)."""

from accounts.services.credentials import (
    activation_send,
    invitation_remind,
    invitation_reminder_problem,
    password_change,
    password_generate,
    password_reset,
    password_reset_request,
    password_reset_send,
    password_set_by_admin,
    password_validate,
    reminders_send_due,
    token_email_deliver,
    user_activate,
)
from accounts.services.logins import login_is_throttled, login_record
from accounts.services.users import (
    case_manager_assign,
    user_create,
    user_deactivate,
    user_delete,
    user_reactivate,
    user_update,
    username_generate,
)

__all__ = [
    "case_manager_assign",
    "invitation_remind",
    "invitation_reminder_problem",
    "password_generate",
    "password_reset_send",
    "reminders_send_due",
    "user_delete",
    "user_update",
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
