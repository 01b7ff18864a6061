from django.apps import AppConfig


class MassUpdateConfig(AppConfig):
    name = "crmadmin.massupdate"
    label = "massupdate"
    verbose_name = "Mass updates"
