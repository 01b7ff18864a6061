"""The sandbox in Django's admin: mostly for looking; the fault switchboard can be edited."""

from django.conf import settings
from django.contrib import admin

from .models import (
    CreditBucket,
    CustomView,
    FaultConfig,
    MassUpdateJob,
    OAuthClient,
    Record,
    SandboxUser,
)


@admin.register(FaultConfig)
class FaultConfigAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "latency",
        "share_429",
        "share_5xx",
        "share_drop",
        "concurrency",
        "credits",
    ]


@admin.register(CreditBucket)
class CreditBucketAdmin(admin.ModelAdmin):
    list_display = ["minute", "credits"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "module", "approval_state", "locked_action", "converted", "modified_time"]
    list_filter = ["module", "approval_state", "converted"]
    search_fields = ["id"]
    list_select_related = ["created_by", "modified_by"]
    raw_id_fields = ["created_by", "modified_by"]


@admin.register(CustomView)
class CustomViewAdmin(admin.ModelAdmin):
    list_display = ["name", "module", "system_name", "is_default"]
    list_filter = ["module"]


@admin.register(MassUpdateJob)
class MassUpdateJobAdmin(admin.ModelAdmin):
    list_display = ["id", "module", "status", "total_count", "updated_count", "failed_count"]
    readonly_fields = ["record_ids"]


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "created_at"]


admin.site.register(SandboxUser)


# Where the sandbox is switched off (production, by default) its tables stay, unused: keep
# them out of the admin too.
if not getattr(settings, "CRMADMIN_SANDBOX_ENABLED", True):
    for _model in (
        FaultConfig,
        CreditBucket,
        Record,
        CustomView,
        MassUpdateJob,
        OAuthClient,
        SandboxUser,
    ):
        if admin.site.is_registered(_model):
            admin.site.unregister(_model)
