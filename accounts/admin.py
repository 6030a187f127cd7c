"""Platform operators' admin for accounts. Reads freely; account changes belong to the
district's own pages and services, so users and the audit trail are read-only here."""

from django.contrib import admin

from accounts.models import ActivationToken, AuditEvent, LoginEvent, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "full_name", "email", "role", "status", "district", "last_login"]
    list_filter = ["district", "role", "status", "source"]
    search_fields = ["username", "email", "first_name", "last_name", "sis_id"]
    exclude = ["password"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "district", "actor_label", "action", "target_label"]
    list_filter = ["district", "action"]
    search_fields = ["target_label", "actor_label", "action"]


@admin.register(ActivationToken)
class ActivationTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "purpose",
        "created_at",
        "expires_at",
        "sent_at",
        "used_at",
        "voided_at",
    ]
    list_filter = ["district", "purpose"]
    exclude = ["token_hash", "dispatch_key"]


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "district", "identifier", "ip", "succeeded"]
    list_filter = ["district", "succeeded"]
