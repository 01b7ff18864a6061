"""Admin: the approval policy is edited here; jobs and their audit trail are only read."""

from django.contrib import admin

from .models import ApprovalPolicy, Job, JobEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows and changes nothing: no add, no edit, no delete, no bulk actions."""

    actions = None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "module", "owner", "status", "record_count", "created_at"]
    list_filter = ["status", "kind", "module"]
    search_fields = ["=id", "reason", "owner__username"]
    list_select_related = ["owner"]
    exclude = ["fields", "changes", "selection_detail", "client_stats"]


@admin.register(JobEvent)
class JobEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "job", "kind", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["=job__id", "message"]
    list_select_related = ["job", "actor"]
    exclude = ["detail"]


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sensitive_fields", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not ApprovalPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
