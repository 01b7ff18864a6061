from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "crmadmin.sandbox"
    label = "sandbox"
    verbose_name = "CRM sandbox"
