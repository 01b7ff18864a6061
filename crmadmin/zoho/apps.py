from django.apps import AppConfig


class ZohoConfig(AppConfig):
    name = "crmadmin.zoho"
    label = "zoho"
    verbose_name = "Zoho CRM connections"
