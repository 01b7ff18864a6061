from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crmadmin.audit"
    label = "audit"
    verbose_name = "Audit"
