from django.contrib import admin

from .models import FailedLogin


@admin.register(FailedLogin)
class FailedLoginAdmin(admin.ModelAdmin):
    """Refused sign-ins in the throttle's window; deleting an account's rows lifts its pause."""

    list_display = ["username", "address", "at"]
    list_filter = ["at"]
    search_fields = ["username", "address"]
    ordering = ["-at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
